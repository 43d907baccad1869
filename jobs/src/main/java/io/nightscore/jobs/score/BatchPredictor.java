package io.nightscore.jobs.score;

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
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * CPU prediction straight into the native booster: each partition fills one dense float matrix per batch
 * from the feature columns and calls XGBoost's thread-safe in-place prediction on it. Compared with
 * xgboost4j-spark's transform this skips the per-row feature array, the per-row labelled point, the
 * DMatrix build and the two vector UDFs after it (probability vector, then vector_to_array), which are
 * most of its time and which the RAPIDS Accelerator cannot place on a GPU.
 */
final class BatchPredictor {
  /** Boosters whose thread count this JVM has already set (one broadcast copy per executor). */
  private static final Set<Booster> CONFIGURED = Collections.synchronizedSet(
      Collections.newSetFromMap(new WeakHashMap<>()));

  private BatchPredictor() {}

  /**
   * Adds {@code scoreCol} (double, P(label = 1) of the booster) to every row. {@code features} are the
   * float columns {@link io.nightscore.common.Features#assemble} wrote, in model order; they and the
   * assembled array column are dropped, every other column passes through.
   */
  static Dataset<Row> predict(ml.dmlc.xgboost4j.scala.Booster booster, Dataset<Row> assembled, List<String> features, String arrayCol,
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
    int threads = Integer.parseInt(assembled.sparkSession().conf().get("spark.task.cpus", "1"));
    // The Scala wrapper is what is broadcast: its finalizer disposes the native booster, so the wrapper must
    // live as long as the broadcast (the caller's model may be garbage collected before the query runs).
    Broadcast<ml.dmlc.xgboost4j.scala.Booster> shared = JavaSparkContext.fromSparkContext(assembled.sparkSession().sparkContext())
        .broadcast(booster);
    return assembled.select(keep.toArray(new Column[0]))
        .mapPartitions(new Partition(shared, passThrough, features.size(), batchRows, threads), Encoders.row(out));
  }

  /** One partition's rows, predicted {@code batchRows} at a time. */
  private static final class Partition implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final Broadcast<ml.dmlc.xgboost4j.scala.Booster> booster;
    private final int passThrough;
    private final int features;
    private final int batchRows;
    private final int threads;

    Partition(Broadcast<ml.dmlc.xgboost4j.scala.Booster> booster, int passThrough, int features, int batchRows, int threads) {
      this.booster = booster;
      this.passThrough = passThrough;
      this.features = features;
      this.batchRows = batchRows;
      this.threads = threads;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) throws XGBoostError {
      Booster b = booster.value().booster();
      // Each task predicts with its own CPU share (spark.task.cpus), not every core of the executor.
      synchronized (CONFIGURED) {
        if (CONFIGURED.add(b)) {
          b.setParam("nthread", threads);
        }
      }
      return new Batches(b, rows);
    }

    private final class Batches implements Iterator<Row> {
      private final Booster booster;
      private final Iterator<Row> rows;
      private final Row[] batch = new Row[batchRows];
      private final float[] matrix = new float[batchRows * features];
      private float[][] predicted;
      private int size;
      private int next;

      Batches(Booster booster, Iterator<Row> rows) {
        this.booster = booster;
        this.rows = rows;
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
        Row in = batch[next];
        Object[] values = new Object[passThrough + 1];
        for (int i = 0; i < passThrough; i++) {
          values[i] = in.get(i);
        }
        values[passThrough] = (double) predicted[next][0];
        batch[next++] = null;
        return RowFactory.create(values);
      }

      private void fill() {
        size = 0;
        next = 0;
        while (size < batchRows && rows.hasNext()) {
          Row r = rows.next();
          int base = size * features;
          for (int j = 0; j < features; j++) {
            int k = passThrough + j;
            matrix[base + j] = r.isNullAt(k) ? Float.NaN : r.getFloat(k);
          }
          batch[size++] = r;
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
}
