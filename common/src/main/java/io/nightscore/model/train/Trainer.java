package io.nightscore.model.train;

import io.nightscore.common.config.EventSchema;
import io.nightscore.common.config.XGBoostSettings;
import io.nightscore.common.sql.JobFailedException;
import io.nightscore.common.sql.SessionSettings;
import io.nightscore.model.DevicePreflight;
import io.nightscore.model.engine.CpuFit;
import io.nightscore.model.engine.SparkFailures;
import io.nightscore.model.engine.TrainingRows;
import io.nightscore.model.features.Features;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import ml.dmlc.xgboost4j.java.XGBoostError;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassificationModel;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassifier;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/** Builds the XGBoost estimator from settings and fits it with early stopping on a holdout day. */
public final class Trainer {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Trainer.class);

  private Trainer() {}

  /**
   * Starts loading XGBoost's native library in this JVM on a background thread, so that unpacking it from the
   * jar (a 300+ MB file written to the temporary directory, ~2 s) overlaps the Spark work that precedes
   * training instead of delaying it. The first XGBoost call waits for the load if it is still running (class
   * initialisation is exclusive); a failed load is reported again, with its cause, by that call.
   */
  public static void loadNativeLibraryInBackground() {
    Thread load = new Thread(() -> {
      try {
        Class.forName("ml.dmlc.xgboost4j.java.XGBoostJNI", true, Trainer.class.getClassLoader());
      } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
        LOG.warn("XGBoost's native library did not load ahead of training: {}", e.toString());
      }
    }, "xgboost-native-load");
    load.setDaemon(true);
    load.start();
  }

  /** The estimator for a schema: one float per feature in an array column, categoricals as the mode says. */
  public static XGBoostClassifier classifier(EventSchema schema, String categoricalMode, XGBoostSettings xgb,
      boolean earlyStopping) {
    return classifier(schema, categoricalMode, xgb, Map.of(), earlyStopping);
  }

  /**
   * As above, with parameters a recipe sets on top of the settings (the predecessor recipe's
   * scale_pos_weight, which settings refuse).
   */
  public static XGBoostClassifier classifier(EventSchema schema, String categoricalMode, XGBoostSettings xgb,
      Map<String, Object> extra, boolean earlyStopping) {
    Map<String, Object> params = new HashMap<>(xgb.params());
    params.putAll(extra);
    XGBoostClassifier clf = new XGBoostClassifier(
        scala.collection.JavaConverters.mapAsScalaMap(params).toMap(scala.Predef.$conforms()));
    for (String name : xgb.params().keySet()) {
      if (!knows(clf, name)) {
        throw new IllegalArgumentException("nightscore.xgboost.params." + name
            + " is not a parameter xgboost4j-spark knows; check the spelling against the XGBoost docs");
      }
    }
    String[] features = schema.features().toArray(new String[0]);
    // One array column, not setFeaturesCol(String[]): xgboost4j-spark 3.4's CPU transform misaligns
    // its output schema when it builds that array itself.
    clf.setFeaturesCol(Features.COLUMN);
    clf.setFeatureNames(features);
    clf.setFeatureTypes(Features.types(schema, categoricalMode));
    clf.setLabelCol(schema.label());
    clf.setNumWorkers(xgb.numWorkers());
    clf.setNumRound(xgb.numRound());
    clf.setInferBatchSize(xgb.inferBatchSize());
    clf.setMissing(Float.NaN);
    if (earlyStopping && xgb.earlyStoppingRounds() > 0) {
      clf.setNumEarlyStoppingRounds(xgb.earlyStoppingRounds());
    }
    return clf;
  }

  private static boolean knows(XGBoostClassifier clf, String name) {
    String camel = com.google.common.base.CaseFormat.LOWER_UNDERSCORE
        .to(com.google.common.base.CaseFormat.LOWER_CAMEL, name);
    return clf.hasParam(name) || clf.hasParam(camel);
  }

  /** Training log loss per round (empty if the library kept no history). */
  public static List<Double> trainCurve(XGBoostClassificationModel model) {
    if (model.summary().isEmpty()) {
      return List.of();
    }
    return toList(model.summary().get().trainObjectiveHistory(), rounds(model));
  }

  /** Log loss per round on the early-stopping rows (empty without early stopping). */
  public static List<Double> tuneCurve(XGBoostClassificationModel model) {
    if (model.summary().isEmpty() || model.summary().get().validationObjectiveHistory().isEmpty()) {
      return List.of();
    }
    return toList(model.summary().get().validationObjectiveHistory().head()._2(), rounds(model));
  }

  private static int rounds(XGBoostClassificationModel model) {
    return (int) model.nativeBooster().getNumBoostedRound();
  }

  /** The history arrays are sized for num_round; rounds early stopping skipped are zeros, not losses. */
  private static List<Double> toList(float[] values, int rounds) {
    List<Double> out = new ArrayList<>(rounds);
    for (int i = 0; i < Math.min(rounds, values.length); i++) {
      out.add((double) values[i]);
    }
    return out;
  }

  /**
   * Total gain of the splits on each feature (features never split on are absent). Read from the
   * booster's own dump (feature names are the booster's, or f<i>) rather than through a feature map:
   * XGBoost 3.4 refuses to dump with a map that marks a feature categorical when a tree splits it
   * numerically, which native categorical mode produces.
   */
  public static Map<String, Double> featureGain(XGBoostClassificationModel model, List<String> features) {
    Map<String, Double> raw;
    try {
      raw = model.nativeBooster().booster().getScore("", "total_gain");
    } catch (ml.dmlc.xgboost4j.java.XGBoostError e) {
      throw new IllegalStateException("cannot read feature importance from the booster", e);
    }
    Map<String, Double> gain = new TreeMap<>();
    raw.forEach((k, v) -> {
      String name = k;
      if (!features.contains(k) && k.matches("f\\d+") && Integer.parseInt(k.substring(1)) < features.size()) {
        name = features.get(Integer.parseInt(k.substring(1)));
      }
      gain.merge(name, v, Double::sum);
    });
    return gain;
  }

  /**
   * Fits on the training rows, evaluating (and early-stopping) on the holdout rows. Both are first laid out
   * the same way on every run ({@link #deterministicLayout}: one partition per worker by a hash of the event
   * id, rows in a fixed order within it). Otherwise XGBoost's own round-robin repartition deals rows to
   * workers in whatever order the upstream shuffles delivered them, and the same data and config give a
   * (slightly) different model.
   */
  public static XGBoostClassificationModel fit(XGBoostClassifier clf, TrainingRows train, TrainingRows holdout,
      String idCol) {
    try {
      return fitLaidOut(clf, train, holdout, idCol);
    } catch (Exception e) { // Scala throws SparkException undeclared
      if (SparkFailures.barrierSlotsUnavailable(e)) {
        throw new JobFailedException("XGBoost trains with " + clf.getNumWorkers() + " workers in one barrier stage, "
            + "which needs " + clf.getNumWorkers() + " task slots at once, and the cluster did not offer them within "
            + "spark.scheduler.barrier.maxConcurrentTasksCheck.* (executor cores / spark.task.cpus, across executors). "
            + "Give the job more executors or cores, or lower nightscore.xgboost.num-workers. Nothing was registered.",
            e);
      }
      if (SparkFailures.barrierStageFailed(e)) {
        // On the CPU, CpuFit trains again with a new tracker after a lost task; on the GPU xgboost4j-spark has
        // Spark rerun its stage against the same tracker. Either way (up to spark.stage.maxConsecutiveAttempts
        // attempts) only a training that failed every attempt lands here.
        int attempts = train.events().sparkSession().sparkContext().getConf()
            .getInt("spark.stage.maxConsecutiveAttempts", 4);
        throw new IllegalStateException("XGBoost's barrier stage (" + clf.getNumWorkers() + " workers) failed "
            + attempts + " time(s) in a row (spark.stage.maxConsecutiveAttempts), each time because one of its tasks "
            + "was lost: an executor lost, or an error in a worker (the executors' logs say which). Nothing was "
            + "registered and the champion is unchanged; rerun retrain. Last failure: " + SparkFailures.firstLine(e),
            e);
      }
      throw e;
    }
  }

  private static XGBoostClassificationModel fitLaidOut(XGBoostClassifier clf, TrainingRows train,
      TrainingRows holdout, String idCol) {
    // On the CPU XGBoost gets its input encoded in one pass and planned once (input), read as internal rows
    // ({@link CpuFit#fitRows}); the GPU plugin takes the Spark-expression query itself, to run it in columnar batches on the
    // GPU, and it is planned without adaptive execution, which would plan it anew for each of the plugin's passes.
    boolean gpu = DevicePreflight.rapidsEnabled(train.events().sparkSession().sparkContext().getConf());
    java.util.function.Function<TrainingRows, Dataset<Row>> laidOut = gpu
        ? rows -> deterministicLayout(rows.assembled(), clf.getNumWorkers(), idCol)
        : rows -> input(rows, clf.getNumWorkers(), idCol, clf.getLabelCol());
    Dataset<Row> stopping = clf.getNumEarlyStoppingRounds() > 0 ? laidOut.apply(holdout) : null;
    if (!gpu) {
      long t0 = System.nanoTime();
      Dataset<Row> rows = laidOut.apply(train);
      long t1 = System.nanoTime();
      XGBoostClassificationModel model = CpuFit.fitRows(clf, rows, stopping);
      LOG.info("XGBoost input of the training rows laid out in {} s, XGBoost trained in {} s", seconds(t1 - t0),
          seconds(System.nanoTime() - t1));
      return model;
    }
    if (stopping != null) {
      clf.setEvalDataset(stopping);
    }
    return SessionSettings.with(train.events().sparkSession(), ADAPTIVE, "false",
        () -> clf.fit(laidOut.apply(train)));
  }

  private static final String ADAPTIVE = "spark.sql.adaptive.enabled";

  private static String seconds(long nanos) {
    return String.format(java.util.Locale.ROOT, "%.2f", nanos / 1e9);
  }

  /**
   * What XGBoost reads on the CPU: the label (a float) and the feature array, encoded in one pass over the scan's
   * column batches or the rows ({@link TrainingRows#encoded}, or the Spark expressions when that pass cannot read
   * a column), laid out as {@link #deterministicLayout} lays them out, over the RDD of one physical plan
   * ({@link CpuFit#plannedOnce}). The layout's key stays as a third column: the shuffle carries nothing else, and the
   * sorted rows reach XGBoost's workers without another projection (a copy of each row).
   */
  public static Dataset<Row> input(TrainingRows rows, int workers, String idCol, String labelCol) {
    Dataset<Row> encoded = rows.encoded();
    if (encoded == null) {
      LOG.info("XGBoost input: model inputs by Spark expressions");
    }
    Dataset<Row> points = (encoded != null ? encoded : rows.assembled())
        .withColumn(LAYOUT_KEY, layoutKey(idCol))
        .select(functions.col(labelCol).cast("float").as(labelCol), functions.col(Features.COLUMN),
            functions.col(LAYOUT_KEY));
    return CpuFit.plannedOnce(byKey(points, workers));
  }

  /**
   * One partition per worker chosen by a 64-bit hash of (event id, day), rows sorted by that hash. A sort on
   * one long key is a radix sort in Spark, a few passes over the keys, where sorting by the id itself compares
   * strings that share their first bytes (a date, a source prefix) in full. Ids are unique within a day (ingest
   * quarantines repeats), so the order is fixed unless two events' hashes collide (about n²/2⁶⁵ for n rows).
   */
  public static Dataset<Row> deterministicLayout(Dataset<Row> rows, int workers, String idCol) {
    return byKey(rows.withColumn(LAYOUT_KEY, layoutKey(idCol)), workers).drop(LAYOUT_KEY);
  }

  private static Column layoutKey(String idCol) {
    return functions.xxhash64(functions.col(idCol), functions.col("dt"));
  }

  /** Rows with a layout key: one partition per worker by the key, rows in key order. */
  private static Dataset<Row> byKey(Dataset<Row> keyed, int workers) {
    Column key = functions.col(LAYOUT_KEY);
    return keyed.repartition(workers, key).sortWithinPartitions(key);
  }

  private static final String LAYOUT_KEY = "_layout_key";
}
