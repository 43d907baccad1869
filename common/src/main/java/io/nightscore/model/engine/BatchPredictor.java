package io.nightscore.model.engine;

import static org.apache.spark.sql.functions.col;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.WeakHashMap;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.XGBoostError;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.catalyst.CatalystTypeConverters;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.vectorized.ColumnarBatch;

/**
 * CPU prediction straight into the native booster: each partition fills one dense float matrix per batch
 * from the feature columns and calls XGBoost's thread-safe in-place prediction on it. Compared with
 * xgboost4j-spark's transform this skips the per-row feature array, the per-row labelled point, the
 * DMatrix build and the two vector UDFs after it (probability vector, then vector_to_array), which are
 * most of its time and which the RAPIDS Accelerator cannot place on a GPU.
 */
public final class BatchPredictor {
  /** Boosters whose thread count this JVM has already set (one broadcast copy per executor). */
  private static final Set<Booster> CONFIGURED = Collections.synchronizedSet(
      Collections.newSetFromMap(new WeakHashMap<>()));

  private BatchPredictor() {}

  /**
   * Adds {@code scoreCol} (double, P(label = 1) of the booster) to every row. {@code features} are the
   * float columns {@link io.nightscore.model.features.Features#assemble} wrote, in model order; they and the
   * assembled array column are dropped, every other column passes through.
   */
  public static Dataset<Row> predict(ml.dmlc.xgboost4j.scala.Booster booster, Dataset<Row> assembled, List<String> features, String arrayCol,
      String scoreCol, int batchRows) {
    List<Column> keep = new ArrayList<>();
    StructType out = new StructType();
    for (var f : assembled.schema().fields()) {
      if (!features.contains(f.name()) && !f.name().equals(arrayCol)) {
        keep.add(col(f.name()));
        out = out.add(f);
      }
    }
    int passThrough = keep.size();
    features.forEach(f -> keep.add(col(f).cast("float")));
    out = out.add(scoreCol, DataTypes.DoubleType, false);
    Shared shared = Shared.of(booster, assembled.sparkSession());
    return assembled.select(keep.toArray(new Column[0]))
        .mapPartitions(new Partition(shared, passThrough, features.size(), batchRows), Encoders.row(out));
  }

  /**
   * Adds {@code scoreCol} (double, P(label = 1) of the booster) to raw event rows, computing the model inputs
   * in the same pass ({@link RowFeatures}) from Spark's internal rows: no join per categorical feature and no
   * conversion of each row to a {@link Row}. {@code events}: {@code passThrough} columns, then the raw feature
   * columns in model order.
   */
  public static Dataset<Row> predictEvents(ml.dmlc.xgboost4j.scala.Booster booster, Dataset<Row> events, int passThrough,
      RowFeatures features, String scoreCol, int batchRows) {
    StructType kept = new StructType();
    List<scala.Function1<Object, Object>> toJava = new ArrayList<>();
    for (int i = 0; i < passThrough; i++) {
      var f = events.schema().fields()[i];
      kept = kept.add(f);
      toJava.add(CatalystTypeConverters.createToScalaConverter(f.dataType()));
    }
    StructType out = kept.add(scoreCol, DataTypes.DoubleType, false);
    Shared shared = Shared.of(booster, events.sparkSession());
    JavaRDD<Row> scored = events.queryExecution().toRdd().toJavaRDD().mapPartitions(rows -> {
      Source<InternalRow> source = new Source<>() {
        @Override
        public Object[] passThrough(InternalRow r) {
          Object[] values = new Object[passThrough + 1];
          for (int i = 0; i < passThrough; i++) {
            values[i] = toJava.get(i).apply(r.get(i, out.fields()[i].dataType()));
          }
          return values;
        }

        @Override
        public void encode(InternalRow r, float[] matrix, int base) {
          features.encode(r, passThrough, matrix, base);
        }
      };
      return new Batches<>(shared.configured(), rows, source, features.width(), batchRows);
    });
    return events.sparkSession().createDataFrame(scored, out);
  }

  /**
   * As {@link #predictEvents}, reading the column batches of the scan under {@code events} instead of its rows
   * when {@code events} is nothing but a columnar scan (Parquet/Delta with the vectorized reader) and a choice of
   * its columns: the model inputs are written column by column from the decoded vectors ({@link
   * RowFeatures.Columns}) and each batch the reader decodes ({@code spark.sql.parquet.columnarReaderBatchSize}
   * rows) is predicted in one call, with no row built for a feature. Returns null for any other plan (a filter
   * left after the scan, deletion vectors, a row-based source): then use {@link #predictEvents}.
   */
  public static Dataset<Row> predictColumnar(ml.dmlc.xgboost4j.scala.Booster booster, Dataset<Row> events,
      int passThrough, RowFeatures features, String scoreCol) {
    ColumnarScan columnar = scoringScan(events.queryExecution().executedPlan());
    if (columnar == null) {
      return null;
    }
    int[] ordinals = columnar.columns();
    StructType out = new StructType();
    org.apache.spark.sql.types.DataType[] keptTypes = new org.apache.spark.sql.types.DataType[passThrough];
    for (int i = 0; i < passThrough; i++) {
      out = out.add(events.schema().fields()[i]);
      keptTypes[i] = events.schema().fields()[i].dataType();
    }
    out = out.add(scoreCol, DataTypes.DoubleType, false);
    int[] kept = java.util.Arrays.copyOfRange(ordinals, 0, passThrough);
    int[] inputs = java.util.Arrays.copyOfRange(ordinals, passThrough, ordinals.length);
    Shared shared = Shared.of(booster, events.sparkSession());
    JavaRDD<InternalRow> scored = columnar.scan().executeColumnar().toJavaRDD().mapPartitions(batches ->
        new ColumnarScores(shared.configured(), batches, features.columns(inputs), features.width(), kept, keptTypes));
    return events.sparkSession().internalCreateDataFrame(scored.rdd(), out, false);
  }

  /**
   * The columnar scan scoring reads when {@code plan} is only that scan, its transition to rows and a choice of
   * its columns ({@link ColumnarScan} with no filter and nothing computed), else null.
   */
  public static ColumnarScan scoringScan(SparkPlan plan) {
    ColumnarScan columnar = ColumnarScan.of(plan, 0);
    return columnar == null || columnar.condition() != null ? null : columnar;
  }

  /** Column batches in, one row (the pass-through values and the score) per event out. */
  private static final class ColumnarScores implements Iterator<InternalRow> {
    private final Booster booster;
    private final Iterator<ColumnarBatch> batches;
    private final RowFeatures.Columns encoder;
    private final int width;
    private final int[] kept;
    private final org.apache.spark.sql.types.DataType[] keptTypes;
    private final GenericInternalRow row;
    private float[] matrix = new float[0];
    private ColumnarBatch batch;
    private float[][] predicted;
    private int next;

    ColumnarScores(Booster booster, Iterator<ColumnarBatch> batches, RowFeatures.Columns encoder, int width,
        int[] kept, org.apache.spark.sql.types.DataType[] keptTypes) {
      this.booster = booster;
      this.batches = batches;
      this.encoder = encoder;
      this.width = width;
      this.kept = kept;
      this.keptTypes = keptTypes;
      this.row = new GenericInternalRow(kept.length + 1);
    }

    @Override
    public boolean hasNext() {
      while (batch == null || next >= batch.numRows()) {
        if (!batches.hasNext()) {
          return false;
        }
        // The reader reuses its vectors for the next batch: rows of this one are read before it is asked for.
        batch = batches.next();
        next = 0;
        int rows = batch.numRows();
        if (rows > 0) {
          if (matrix.length != rows * width) {
            matrix = new float[rows * width];
          }
          encoder.encode(batch, matrix);
          try {
            predicted = booster.inplace_predict(matrix, rows, width, Float.NaN);
          } catch (XGBoostError e) {
            throw new IllegalStateException("XGBoost prediction failed on a batch of " + rows + " rows", e);
          }
        }
      }
      return true;
    }

    /** The same row object each time (Spark's contract for internal rows): the scan above copies it. */
    @Override
    public InternalRow next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      InternalRow source = batch.getRow(next);
      for (int k = 0; k < kept.length; k++) {
        row.update(k, source.isNullAt(kept[k]) ? null : source.get(kept[k], keptTypes[k]));
      }
      row.setDouble(kept.length, predicted[next][0]);
      next++;
      return row;
    }
  }

  /**
   * The booster broadcast to the executors, and the threads a task predicts with (spark.task.cpus). The Scala
   * wrapper is what is broadcast: its finalizer disposes the native booster, so the wrapper must live as long as
   * the broadcast (the caller's model may be garbage collected before the query runs).
   */
  private record Shared(Broadcast<ml.dmlc.xgboost4j.scala.Booster> booster, int threads)
      implements java.io.Serializable {
    static Shared of(ml.dmlc.xgboost4j.scala.Booster booster, org.apache.spark.sql.SparkSession spark) {
      return new Shared(JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(booster),
          Integer.parseInt(spark.conf().get("spark.task.cpus", "1")));
    }

    /** The broadcast booster, set once per executor JVM to predict with the task's CPU share. */
    Booster configured() throws XGBoostError {
      Booster b = booster.value().booster();
      // Each task predicts with its own CPU share (spark.task.cpus), not every core of the executor.
      synchronized (CONFIGURED) {
        if (CONFIGURED.add(b)) {
          b.setParam("nthread", threads);
        }
      }
      return b;
    }
  }

  /** How a batch reads one input row: its pass-through values (and a slot for the score), its model inputs. */
  private interface Source<T> {
    Object[] passThrough(T row);

    void encode(T row, float[] matrix, int base);
  }

  /** One partition's rows, predicted {@code batchRows} at a time. */
  private static final class Partition implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final Shared booster;
    private final int passThrough;
    private final int features;
    private final int batchRows;

    Partition(Shared booster, int passThrough, int features, int batchRows) {
      this.booster = booster;
      this.passThrough = passThrough;
      this.features = features;
      this.batchRows = batchRows;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) throws XGBoostError {
      Source<Row> source = new Source<>() {
        @Override
        public Object[] passThrough(Row r) {
          Object[] values = new Object[passThrough + 1];
          for (int i = 0; i < passThrough; i++) {
            values[i] = r.get(i);
          }
          return values;
        }

        @Override
        public void encode(Row r, float[] matrix, int base) {
          for (int j = 0; j < features; j++) {
            int k = passThrough + j;
            matrix[base + j] = r.isNullAt(k) ? Float.NaN : r.getFloat(k);
          }
        }
      };
      return new Batches<>(booster.configured(), rows, source, features, batchRows);
    }
  }

  /** Rows in, rows with their score out: one dense matrix and one in-place prediction per batch. */
  private static final class Batches<T> implements Iterator<Row> {
    private final Booster booster;
    private final Iterator<T> rows;
    private final Source<T> source;
    private final int features;
    private final int batchRows;
    private final Object[][] batch;
    private final float[] matrix;
    private float[][] predicted;
    private int size;
    private int next;

    Batches(Booster booster, Iterator<T> rows, Source<T> source, int features, int batchRows) {
      this.booster = booster;
      this.rows = rows;
      this.source = source;
      this.features = features;
      this.batchRows = batchRows;
      this.batch = new Object[batchRows][];
      this.matrix = new float[batchRows * features];
    }

    @Override
    public boolean hasNext() {
      if (next < size) {
        return true;
      }
      fill();
      return size > 0;
    }

    @Override
    public Row next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      Object[] values = batch[next];
      values[values.length - 1] = (double) predicted[next][0];
      batch[next++] = null;
      return RowFactory.create(values);
    }

    private void fill() {
      size = 0;
      next = 0;
      while (size < batchRows && rows.hasNext()) {
        T r = rows.next();
        source.encode(r, matrix, size * features);
        batch[size++] = source.passThrough(r);
      }
      if (size == 0) {
        return;
      }
      try {
        predicted = booster.inplace_predict(size == batchRows ? matrix
            : java.util.Arrays.copyOf(matrix, size * features), size, features, Float.NaN);
      } catch (XGBoostError e) {
        throw new IllegalStateException("XGBoost prediction failed on a batch of " + size + " rows", e);
      }
    }
  }
}
