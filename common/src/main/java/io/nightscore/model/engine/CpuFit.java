package io.nightscore.model.engine;

import io.nightscore.model.features.Features;
import java.util.List;
import ml.dmlc.xgboost4j.LabeledPoint;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoostError;
import ml.dmlc.xgboost4j.scala.Booster;
import ml.dmlc.xgboost4j.scala.spark.RuntimeParams;
import ml.dmlc.xgboost4j.scala.spark.Utils$;
import ml.dmlc.xgboost4j.scala.spark.Watches;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassificationModel;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassifier;
import ml.dmlc.xgboost4j.scala.spark.XGBoostTrainingSummary$;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.execution.LogicalRDD;
import org.apache.spark.unsafe.Platform;

/**
 * xgboost4j-spark 3.4.0's CPU fit, fed from Spark's internal rows: the members it calls are package-private in
 * Scala (public in bytecode), so an upgrade must re-check them ({@code CpuFitTest} compares the booster with
 * {@code clf.fit}'s byte for byte).
 */
public final class CpuFit {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(CpuFit.class);

  private CpuFit() {}

  private static String seconds(long nanos) {
    return String.format(java.util.Locale.ROOT, "%.2f", nanos / 1e9);
  }

  /**
   * xgboost4j-spark's CPU fit ({@code clf.fit}) over rows of label and feature array read as Spark's internal
   * rows. xgboost4j-spark 3.4 turns every row into an external {@code Row} first, the feature array into a
   * Scala array of boxed floats that it unboxes again, which costs its workers more than reading the rows. Here
   * each row's label and floats are copied out of the internal row into
   * one dense array per worker, or the points xgboost4j-spark makes (label, dense values, weight 1, no group, no
   * margin) past a bound ({@link #matrix}); the distributed training is {@link #train}'s (a tracker per attempt),
   * and the rest is xgboost4j-spark's own: schema checks, feature names and types, parameters, model.
   * Calls members that are package-private in Scala (public in bytecode) of xgboost4j-spark 3.4.0; an upgrade
   * must re-check them ({@code TrainerTest} compares the booster with {@code clf.fit}'s byte for byte).
   * {@code train} and {@code eval} (early-stopping rows, may be null) are rows {@code Trainer.input} laid out.
   */
  public static XGBoostClassificationModel fitRows(XGBoostClassifier clf, Dataset<Row> train, Dataset<Row> eval) {
    clf.transformSchema(train.schema());
    org.apache.spark.SparkContext sc = train.sparkSession().sparkContext();
    int sharing = workersPerJvm(sc.getConf(), sc.isLocal(), clf.getNumWorkers());
    clf.validate(train);
    JavaRDD<InternalRow> trainRows = points(train, clf.getNumWorkers());
    JavaRDD<InternalRow> evalRows = eval == null ? null : points(eval, clf.getNumWorkers());
    float missing = clf.getMissing();
    String[] names = clf.getFeatureNames();
    String[] types = clf.getFeatureTypes();
    JavaRDD<Watches> watches = evalRows == null
        ? trainRows.mapPartitions(rows -> watches(List.of(rows), missing, names, types, sharing))
        : trainRows.zipPartitions(evalRows, (rows, stop) -> watches(List.of(rows, stop), missing, names, types,
            sharing));
    RuntimeParams runtime = clf.getRuntimeParameters(sc.isLocal(), scala.collection.immutable.Map$.MODULE$.empty());
    scala.Tuple2<Booster, scala.collection.immutable.Map<String, float[]>> trained =
        train(watches, runtime, nativeParams(clf, sc));
    XGBoostClassificationModel model = clf.createModel(trained._1(),
        XGBoostTrainingSummary$.MODULE$.apply(trained._2()));
    clf.copyValues(model, ParamMap.empty());
    model.setParent(clf);
    return model;
  }

  /**
   * XGBoost's distributed training as xgboost4j-spark 3.4.0 runs it (a tracker on the driver, one barrier task per
   * worker joining it, the booster and metrics of worker 0), except after a lost task. xgboost4j-spark makes its
   * barrier stage a shuffle map stage so that Spark reruns it, and the new attempt's workers join the tracker the
   * failed attempt used; that tracker's native thread may then write to a dead worker's socket and abort the whole
   * driver process ("terminate called ... Broken pipe": seen on the test cluster). Here the barrier stage is its
   * job's result stage, which Spark never reruns, and every attempt has a tracker of its own: a failed attempt's
   * tracker is stopped and the next attempt starts a new one, up to spark.stage.maxConsecutiveAttempts attempts
   * (the attempts Spark gives any stage). An attempt after a failure may not get its slots at first (a task stuck
   * in the dead peer's collective keeps its slot until the task reaper kills its executor): that is retried too.
   */
  static scala.Tuple2<Booster, scala.collection.immutable.Map<String, float[]>> train(JavaRDD<Watches> watches,
      RuntimeParams runtime, scala.collection.immutable.Map<String, Object> params) {
    org.apache.spark.SparkContext sc = watches.context();
    int attempts = Math.max(1, sc.getConf().getInt("spark.stage.maxConsecutiveAttempts", 4));
    for (int attempt = 1; ; attempt++) {
      try {
        return trainOnce(watches, runtime, params, attempt, attempts);
      } catch (Exception e) { // Scala's SparkException is undeclared
        boolean lost = SparkFailures.barrierStageFailed(e)
            || attempt > 1 && SparkFailures.barrierSlotsUnavailable(e);
        if (!lost || attempt >= attempts) {
          throw e;
        }
        LOG.warn("XGBoost training attempt {} of {} failed ({}); training again with a new tracker", attempt,
            attempts, SparkFailures.firstLine(e));
      }
    }
  }

  private static scala.Tuple2<Booster, scala.collection.immutable.Map<String, float[]>> trainOnce(
      JavaRDD<Watches> watches, RuntimeParams runtime, scala.collection.immutable.Map<String, Object> params,
      int attempt, int attempts) {
    org.apache.spark.SparkContext sc = watches.context();
    ml.dmlc.xgboost4j.scala.spark.TrackerConf conf = runtime.trackerConf();
    ml.dmlc.xgboost4j.java.RabitTracker tracker;
    try {
      tracker = new ml.dmlc.xgboost4j.java.RabitTracker(runtime.numWorkers(), conf.hostIp(), conf.port(),
          conf.timeout());
    } catch (XGBoostError e) {
      throw new IllegalStateException("XGBoost's tracker could not be created: " + e.getMessage(), e);
    }
    String callSite = sc.getLocalProperty(org.apache.spark.util.CallSite$.MODULE$.SHORT_FORM());
    try {
      java.util.Map<String, Object> env;
      try {
        if (!tracker.start()) {
          throw new IllegalStateException("XGBoost's tracker did not start");
        }
        env = new java.util.HashMap<>(tracker.getWorkerArgs());
      } catch (XGBoostError e) {
        throw new IllegalStateException("XGBoost's tracker did not start: " + e.getMessage(), e);
      }
      return trainWith(tracker, env, watches, runtime, params, attempt, attempts);
    } finally {
      if (callSite == null) {
        sc.clearCallSite();
      } else {
        sc.setCallSite(callSite);
      }
      try {
        tracker.stop();
      } catch (XGBoostError | RuntimeException e) {
        LOG.warn("XGBoost's tracker did not stop cleanly: {}", e.toString());
      }
    }
  }

  private static scala.Tuple2<Booster, scala.collection.immutable.Map<String, float[]>> trainWith(
      ml.dmlc.xgboost4j.java.RabitTracker tracker, java.util.Map<String, Object> env, JavaRDD<Watches> watches,
      RuntimeParams runtime, scala.collection.immutable.Map<String, Object> params, int attempt, int attempts) {
    org.apache.spark.SparkContext sc = watches.context();
    LOG.info("XGBoost training (attempt {} of {}): {} workers, parameters {}", attempt, attempts,
        runtime.numWorkers(), params);
    // The stage is named for what it does (the executor-loss tests pick it by name).
    sc.setCallSite("XGBoost training (attempt " + attempt + " of " + attempts + ")");
    scala.reflect.ClassTag<scala.Tuple2<Booster, scala.collection.immutable.Map<String, float[]>>> tag =
        scala.reflect.ClassTag$.MODULE$.apply(scala.Tuple2.class);
    org.apache.spark.rdd.RDD<scala.Tuple2<Booster, scala.collection.immutable.Map<String, float[]>>> trained =
        watches.rdd().barrier().mapPartitions(new Worker(env, runtime, params), false, tag);
    List<scala.Tuple2<Booster, scala.collection.immutable.Map<String, float[]>>> out =
        new JavaRDD<>(trained, tag).collect();
    if (out.size() != 1) {
      throw new IllegalStateException("XGBoost's worker 0 returned " + out.size() + " boosters, expected 1");
    }
    return out.get(0);
  }

  /**
   * One barrier task of {@link #train}: joins the tracker as worker {@code DMLC_TASK_ID} = its partition, trains on
   * its watches, and returns the booster and the metrics per watch (worker 0 only; the boosters are the same).
   */
  private static final class Worker extends scala.runtime.AbstractFunction1<scala.collection.Iterator<Watches>,
      scala.collection.Iterator<scala.Tuple2<Booster, scala.collection.immutable.Map<String, float[]>>>>
      implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private final java.util.HashMap<String, Object> env;
    private final RuntimeParams runtime;
    private final scala.collection.immutable.Map<String, Object> params;

    Worker(java.util.Map<String, Object> env, RuntimeParams runtime,
        scala.collection.immutable.Map<String, Object> params) {
      this.env = new java.util.HashMap<>(env);
      this.runtime = runtime;
      this.params = params;
    }

    @Override
    public scala.collection.Iterator<scala.Tuple2<Booster, scala.collection.immutable.Map<String, float[]>>> apply(
        scala.collection.Iterator<Watches> input) {
      int partition = org.apache.spark.TaskContext.getPartitionId();
      java.util.Map<String, Object> args = new java.util.HashMap<>(env);
      args.put("DMLC_TASK_ID", String.valueOf(partition));
      try {
        ml.dmlc.xgboost4j.java.Communicator.init(args);
        try (ml.dmlc.xgboost4j.java.ConfigContext ignored = new ml.dmlc.xgboost4j.java.ConfigContext(
            new java.util.HashMap<>(scala.collection.JavaConverters.mapAsJavaMap(runtime.configs())))) {
          if (!input.hasNext()) {
            throw new IllegalStateException("XGBoost worker " + partition + " has no input matrix");
          }
          Watches watches = input.next();
          try {
            int rounds = runtime.numRounds();
            float[][] metrics = new float[watches.size()][rounds];
            scala.collection.immutable.Map<String, ml.dmlc.xgboost4j.scala.DMatrix> named = watches.toMap();
            Booster booster = ml.dmlc.xgboost4j.scala.XGBoost.train(named.apply(Utils$.MODULE$.TRAIN_NAME()), params,
                rounds, named, metrics, runtime.obj().isDefined() ? runtime.obj().get() : null,
                runtime.eval().isDefined() ? runtime.eval().get() : null, runtime.earlyStoppingRounds(), null);
            if (partition != 0) {
              return scala.collection.JavaConverters.asScalaIterator(java.util.Collections.emptyIterator());
            }
            // XGBoost fills the metrics in the order of the watches' map, as xgboost4j-spark pairs them.
            scala.collection.immutable.Map<String, float[]> byName = scala.collection.immutable.Map$.MODULE$.empty();
            scala.collection.Iterator<String> names = named.keysIterator();
            for (int i = 0; names.hasNext(); i++) {
              byName = byName.updated(names.next(), metrics[i]);
            }
            return scala.collection.JavaConverters.asScalaIterator(
                List.of(new scala.Tuple2<>(booster, byName)).iterator());
          } finally {
            watches.delete();
          }
        }
      } catch (XGBoostError e) {
        throw new IllegalStateException("XGBoost worker " + partition + " failed: " + e.getMessage(), e);
      } finally {
        try {
          ml.dmlc.xgboost4j.java.Communicator.shutdown();
        } catch (XGBoostError | RuntimeException e) {
          LOG.error("XGBoost worker {}: communicator shutdown failed", partition, e);
        }
      }
    }
  }

  /**
   * The parameters XGBoost trains with: the estimator's, and {@code nthread} from {@link #threadsPerWorker} unless
   * they name it. Added here rather than set on the estimator, whose check (nthread at most spark.task.cpus) is
   * right on a cluster but would refuse local workers their share of the JVM's cores.
   */
  public static scala.collection.immutable.Map<String, Object> nativeParams(XGBoostClassifier clf,
      org.apache.spark.SparkContext sc) {
    scala.collection.immutable.Map<String, Object> params = clf.getXGBoostParams();
    return clf.isSet(clf.nthread()) ? params : params.updated("nthread",
        threadsPerWorker(sc.getConf(), sc.isLocal(), sc.defaultParallelism(), clf.getNumWorkers()));
  }

  /**
   * Threads of each CPU worker (XGBoost's {@code nthread}) where the settings name none ({@link #nativeParams}).
   * On a cluster: its task's cores, spark.task.cpus. In local mode this JVM is the only executor and holds every
   * worker: they share its cores ({@code cores}: the context's default parallelism, the local master's N unless
   * spark.default.parallelism says otherwise, ÷ workers; at least spark.task.cpus), which would otherwise idle
   * while XGBoost trains (one worker on 2 cores used one).
   * xgboost4j-spark 3.4 hands XGBoost {@code nthread} only when it is set, and XGBoost's own default is every core
   * of the machine, for each worker (2 workers of 2 threads on a 2-core box, 4 workers of 8 on an 8-core executor
   * with spark.task.cpus=2).
   */
  public static int threadsPerWorker(org.apache.spark.SparkConf conf, boolean local, int cores, int workers) {
    int taskCpus = conf.getInt("spark.task.cpus", 1);
    return local ? Math.max(taskCpus, cores / workers) : taskCpus;
  }

  /**
   * How many of the job's workers one JVM may hold, which bounds each one's dense copy ({@link #denseFloats}):
   * all of them in local mode; on a cluster, an executor's task slots (spark.executor.cores ÷ spark.task.cpus),
   * or 8 where the executor's cores are not set.
   */
  public static int workersPerJvm(org.apache.spark.SparkConf conf, boolean local, int workers) {
    if (local) {
      return workers;
    }
    int slots = conf.contains("spark.executor.cores")
        ? conf.getInt("spark.executor.cores", 1) / conf.getInt("spark.task.cpus", 1) : 8;
    return Math.max(1, Math.min(workers, slots));
  }

  /**
   * {@code Trainer.input}'s rows (the label as a float, the feature array, the layout's key) as the internal rows of
   * its one plan ({@link #plannedRows}), one partition per worker (else XGBoost would deal them out again, in
   * whatever order).
   */
  private static JavaRDD<InternalRow> points(Dataset<Row> rows, int workers) {
    JavaRDD<InternalRow> points = plannedRows(rows).toJavaRDD();
    if (points.getNumPartitions() != workers) {
      throw new IllegalStateException(points.getNumPartitions() + " partitions for " + workers
          + " XGBoost workers: lay the rows out with Trainer.input first");
    }
    return points;
  }

  /**
   * One task's XGBoost input: a DMatrix per row iterator (training, then early-stopping rows), named as
   * xgboost4j-spark names them, built when XGBoost asks for it (after its worker has joined the tracker), as
   * xgboost4j-spark's is. Each row's values are copied out as it streams by (Spark may reuse the row objects).
   */
  private static java.util.Iterator<Watches> watches(List<java.util.Iterator<InternalRow>> parts, float missing,
      String[] names, String[] types, int sharing) {
    return new java.util.Iterator<>() {
      private boolean built;

      @Override
      public boolean hasNext() {
        return !built && parts.get(0).hasNext();
      }

      @Override
      public Watches next() {
        if (!hasNext()) {
          throw new java.util.NoSuchElementException();
        }
        built = true;
        ml.dmlc.xgboost4j.scala.DMatrix[] matrices = new ml.dmlc.xgboost4j.scala.DMatrix[parts.size()];
        for (int i = 0; i < parts.size(); i++) {
          matrices[i] = matrix(parts.get(i), missing, names, types, denseFloats(sharing));
        }
        String[] watchNames = parts.size() == 1 ? new String[] {Utils$.MODULE$.TRAIN_NAME()}
            : new String[] {Utils$.MODULE$.TRAIN_NAME(), Utils$.MODULE$.VALIDATION_NAME()};
        return new Watches(matrices, watchNames, scala.Option.empty());
      }
    };
  }

  /**
   * The DMatrix of rows of label and feature array. While they fit in {@link #denseFloats} floats the rows are
   * copied into one dense array, which XGBoost reads in one call (NaN is missing); a worker with more rows than
   * that streams them as xgboost4j-spark does, as points in its CSR batches, starting with the rows already
   * read. The same matrix either way ({@code TrainerTest}).
   */
  public static ml.dmlc.xgboost4j.scala.DMatrix matrix(java.util.Iterator<InternalRow> rows, float missing,
      String[] names, String[] types, long denseFloats) {
    try {
      long t0 = System.nanoTime();
      DenseRows dense = DenseRows.read(rows, names.length, denseFloats);
      boolean inOne = dense.complete && dense.count > 0;
      ml.dmlc.xgboost4j.scala.DMatrix matrix = new ml.dmlc.xgboost4j.scala.DMatrix(inOne
          ? dense.matrix(missing) : new DMatrix(dense.thenStreamed(rows), null, missing));
      LOG.info("XGBoost worker: {} rows read into its DMatrix in {} s ({})", matrix.rowNum(),
          seconds(System.nanoTime() - t0), inOne ? "one dense array" : "streamed in batches");
      if (types.length > 0) {
        matrix.setFeatureTypes(types);
      }
      if (names.length > 0) {
        matrix.setFeatureNames(names);
      }
      return matrix;
    } catch (XGBoostError e) {
      throw new IllegalStateException("XGBoost could not build its input matrix: " + e.getMessage(), e);
    }
  }

  /**
   * The most floats a worker copies into one dense array when {@code sharing} workers may share its JVM: an eighth
   * of the heap split between them, 1.5 times that while an array doubles — under a fifth of the heap in all,
   * inside the share Spark leaves to user code (40% by default). 6 GB of heap: 200 million floats for one worker
   * (3.5 million rows of 56 features), 25 million each for eight; more rows than that stream in xgboost4j's batches.
   */
  public static long denseFloats(int sharing) {
    return Runtime.getRuntime().maxMemory() / 8 / sharing / Float.BYTES;
  }

  /** Rows of (label, feature array) copied into one row-major float array, as many as a bound allows. */
  private static final class DenseRows {
    private final int width;
    private float[] labels;
    private float[] values;
    private int count;
    private boolean complete;

    private DenseRows(int width, int capacity) {
      this.width = width;
      labels = new float[capacity];
      values = new float[capacity * width];
    }

    /** Reads rows until they end ({@code complete}) or the next would pass {@code maxFloats}. */
    public static DenseRows read(java.util.Iterator<InternalRow> rows, int width, long maxFloats) {
      long most = width == 0 ? 0 : Math.min(maxFloats / width, (Integer.MAX_VALUE - 16) / width);
      DenseRows d = new DenseRows(width, (int) Math.min(4096, most));
      while (rows.hasNext()) {
        if (d.count == d.labels.length) {
          int grown = (int) Math.min(2L * d.count, most);
          if (grown <= d.count) {
            return d;
          }
          d.labels = java.util.Arrays.copyOf(d.labels, grown);
          d.values = java.util.Arrays.copyOf(d.values, grown * width);
        }
        InternalRow row = rows.next();
        org.apache.spark.sql.catalyst.util.ArrayData features = row.getArray(1);
        if (features.numElements() != width) {
          throw new IllegalArgumentException("a training row has " + features.numElements()
              + " features in " + Features.COLUMN + ", the model " + width);
        }
        d.labels[d.count] = row.getFloat(0);
        int base = d.count * width;
        if (features instanceof UnsafeArrayData u) {
          Platform.copyMemory(u.getBaseObject(), u.getBaseOffset()
              + UnsafeArrayData.calculateHeaderPortionInBytes(width), d.values,
              Platform.FLOAT_ARRAY_OFFSET + (long) base * Float.BYTES, (long) width * Float.BYTES);
        } else {
          for (int j = 0; j < width; j++) {
            d.values[base + j] = features.getFloat(j);
          }
        }
        d.count++;
      }
      d.complete = true;
      return d;
    }

    DMatrix matrix(float missing) throws XGBoostError {
      DMatrix m = new DMatrix(values, count, width, missing);
      m.setLabel(java.util.Arrays.copyOf(labels, count));
      return m;
    }

    /** A point as xgboost4j-spark makes it: label, dense values, weight 1, no group, no margin. */
    private static LabeledPoint point(float label, float[] values) {
      return new LabeledPoint(label, values.length, null, values, 1.0f, -1, Float.NaN);
    }

    /**
     * The rows read, then the rest of {@code rows}, as {@link #point}s. The rest are read as they stream by
     * (Spark may reuse the row objects).
     */
    java.util.Iterator<LabeledPoint> thenStreamed(java.util.Iterator<InternalRow> rows) {
      return new java.util.Iterator<>() {
        private int next;

        @Override
        public boolean hasNext() {
          return next < count || rows.hasNext();
        }

        @Override
        public LabeledPoint next() {
          if (next < count) {
            int i = next++;
            return point(labels[i], java.util.Arrays.copyOfRange(values, i * width, (i + 1) * width));
          }
          InternalRow row = rows.next();
          return point(row.getFloat(0), row.getArray(1).toFloatArray());
        }
      };
    }
  }

  /**
   * {@code rows} over the RDD of their one physical plan. Every query built on a Dataset plans it anew (a
   * projection over it, its {@code .rdd}): under adaptive execution its read-encode-shuffle stage ran again
   * each time (xgboost4j-spark's own CPU path read its input twice so). Over one RDD the plan and its shuffle
   * run once, here, as it plans; whatever reads the result (fitRows, the bench, a test) reads that RDD.
   */
  public static Dataset<Row> plannedOnce(Dataset<Row> rows) {
    return rows.sparkSession().internalCreateDataFrame(rows.queryExecution().toRdd(), rows.schema(), false);
  }

  /**
   * The RDD a {@link #plannedOnce} Dataset is over, read as it is: a query on the Dataset would copy every row
   * through a projection first.
   */
  public static org.apache.spark.rdd.RDD<InternalRow> plannedRows(Dataset<Row> planned) {
    if (!(planned.queryExecution().analyzed() instanceof LogicalRDD over)) {
      throw new IllegalArgumentException("not rows Trainer.input laid out: " + planned.queryExecution().analyzed()
          .nodeName());
    }
    return over.rdd();
  }
}
