package io.nightscore.model.engine;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.nightscore.common.config.EventSchema;
import io.nightscore.model.features.CategoricalEncoding;
import io.nightscore.model.features.Features;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.BasePredicate;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.Predicate;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.catalyst.expressions.UnsafeProjection;
import org.apache.spark.sql.catalyst.expressions.UnsafeRow;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import org.apache.spark.unsafe.Platform;

/**
 * Events XGBoost trains (or early-stops) on, and how their model inputs are made: with the stored encoding
 * (scoring's inputs), or with target statistics, where each training row gets the out-of-fold rate of its
 * fold. Two renderings of the same floats: {@link #assembled} with Spark expressions (what the RAPIDS
 * Accelerator runs and gpu-check explains) and {@link #encoded}, the CPU's, computed in one pass by
 * {@link RowFeatures} over the scan's column batches or Spark's internal rows instead of a broadcast join and a
 * projection per categorical feature.
 */
public final class TrainingRows {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TrainingRows.class);
  private final Dataset<Row> events;
  private final EventSchema schema;
  private final CategoricalEncoding encoding;
  private final CategoricalEncoding.TargetFit target;
  private final Column fold;

  private TrainingRows(Dataset<Row> events, EventSchema schema, CategoricalEncoding encoding,
      CategoricalEncoding.TargetFit target, Column fold) {
    this.events = events;
    this.schema = schema;
    this.encoding = encoding;
    this.target = target;
    this.fold = fold;
  }

  /** Rows whose categorical values get the encoding's scoring inputs (its target rates, or the indices). */
  public static TrainingRows of(Dataset<Row> events, EventSchema schema, CategoricalEncoding encoding) {
    return new TrainingRows(events, schema, encoding, null, null);
  }

  /** Training rows with target statistics: {@code fold}, an int column in [0, folds), picks each row's rates. */
  public static TrainingRows withTargetStats(Dataset<Row> events, EventSchema schema,
      CategoricalEncoding.TargetFit target, Column fold) {
    return new TrainingRows(events, schema, target.encoding(), target, fold);
  }

  /** The raw events. */
  public Dataset<Row> events() {
    return events;
  }

  /** The events with their model inputs as Spark expressions ({@link Features#assemble}): any device. */
  public Dataset<Row> assembled() {
    return target == null ? Features.assemble(events, schema, encoding)
        : Features.assembleTraining(events, schema, target, fold);
  }

  /**
   * The label, the id, {@code dt} and the feature array {@link Features#COLUMN}, the same values as
   * {@link #assembled}'s, computed by {@link RowFeatures} in one pass: over the scan's column batches when the
   * events query is a columnar scan under a filter and a projection (Delta/Parquet, as every night's is), else
   * over Spark's rows; null when a feature column has a type that pass does not read (then use
   * {@link #assembled}).
   */
  public Dataset<Row> encoded() {
    Dataset<Row> rows = inputColumns();
    RowFeatures features = target == null ? RowFeatures.of(rows.schema(), schema.features(), schema, encoding)
        : RowFeatures.training(rows.schema(), schema.features(), schema, target);
    if (features == null) {
      return null;
    }
    StructType in = rows.schema();
    StructType out = new StructType().add(in.fields()[0]).add(in.fields()[1]).add(in.fields()[2])
        .add(Features.COLUMN, DataTypes.createArrayType(DataTypes.FloatType, false), false);
    ColumnarScan columnar = ColumnarScan.of(rows.queryExecution().executedPlan(), HEADS);
    LOG.info("model inputs encoded from {}", columnar != null ? "the scan's column batches" : "rows");
    JavaRDD<InternalRow> encoded = columnar != null ? batches(columnar, features, out)
        : encode(rows.queryExecution().toRdd().toJavaRDD(), features, out);
    return events.sparkSession().internalCreateDataFrame(encoded.rdd(), out, false);
  }

  /** Whether {@link #encoded} reads the scan's column batches rather than rows (plans the query: for tests). */
  public boolean readsColumnBatches() {
    return ColumnarScan.of(inputColumns().queryExecution().executedPlan(), HEADS) != null;
  }

  /** What {@link #encoded} reads: the label, id, dt and fold ({@link #HEADS} columns), then the raw features. */
  private Dataset<Row> inputColumns() {
    List<Column> cols = new ArrayList<>(List.of(col(schema.label()), col(schema.id()), col("dt"),
        (fold == null ? lit(0) : fold).as("_fold")));
    schema.features().forEach(f -> cols.add(col(f)));
    return events.select(cols.toArray(new Column[0]));
  }

  private static final int HEADS = 4;

  /**
   * The column-batch rendering of {@link #encode}: per batch, Spark's filter and the label, id, dt and fold
   * expressions evaluated on its rows, the features of the batch encoded column by column (each row with its
   * fold's rates), and one output row per row the filter keeps, in the batch's order.
   */
  private static JavaRDD<InternalRow> batches(ColumnarScan columnar, RowFeatures features, StructType out) {
    scala.collection.Seq<Attribute> input = columnar.scan().output();
    Expression condition = columnar.condition();
    scala.collection.Seq<Expression> computed = scala.collection.JavaConverters.asScalaBuffer(columnar.computed())
        .toSeq();
    int[] ordinals = columnar.columns();
    int width = features.width();
    org.apache.spark.sql.types.DataType[] types = {out.fields()[0].dataType(), out.fields()[1].dataType(),
        out.fields()[2].dataType()};
    return columnar.scan().executeColumnar().toJavaRDD().mapPartitions(batches -> {
      BasePredicate keep = condition == null ? null : Predicate.create(condition, input);
      if (keep != null) {
        keep.initialize(org.apache.spark.TaskContext.getPartitionId());
      }
      UnsafeProjection heads = UnsafeProjection.create(computed, input);
      heads.initialize(org.apache.spark.TaskContext.getPartitionId());
      RowFeatures.Columns encoder = features.columns(ordinals);
      return new java.util.Iterator<InternalRow>() {
        private final GenericInternalRow row = new GenericInternalRow(4);
        private float[] matrix = new float[0];
        private int[] folds = new int[0];
        private int[] kept = new int[0];
        private UnsafeRow[] keptHeads = new UnsafeRow[0];
        private int count;
        private int next;

        @Override
        public boolean hasNext() {
          while (next == count && batches.hasNext()) {
            load(batches.next());
          }
          return next < count;
        }

        /** One row reused: what reads it (the layout's shuffle, a projection) copies it before the next. */
        @Override
        public InternalRow next() {
          if (!hasNext()) {
            throw new java.util.NoSuchElementException();
          }
          int i = kept[next];
          UnsafeRow head = keptHeads[next++];
          for (int c = 0; c < 3; c++) {
            row.update(c, head.get(c, types[c]));
          }
          row.update(3, UnsafeArrayData.fromPrimitiveArray(matrix, Platform.FLOAT_ARRAY_OFFSET + i * width * 4,
              width, 4));
          return row;
        }

        private void load(ColumnarBatch batch) {
          int rows = batch.numRows();
          if (folds.length < rows) {
            folds = new int[rows];
            kept = new int[rows];
            keptHeads = new UnsafeRow[rows];
            matrix = new float[rows * width];
          }
          count = 0;
          next = 0;
          java.util.Iterator<InternalRow> it = batch.rowIterator();
          for (int i = 0; i < rows; i++) {
            InternalRow r = it.next();
            folds[i] = 0;
            if (keep == null || keep.eval(r)) {
              UnsafeRow head = heads.apply(r).copy();
              folds[i] = head.getInt(3);
              kept[count] = i;
              keptHeads[count++] = head;
            }
          }
          if (count > 0) {
            encoder.encode(batch, matrix, folds);
          }
        }
      };
    });
  }

  /**
   * Rows of label, id, dt, fold and the raw features to rows of label, id, dt and the feature array. Static, so
   * the task captures only the encoder and the schema.
   */
  private static JavaRDD<InternalRow> encode(JavaRDD<InternalRow> rows, RowFeatures features, StructType out) {
    int width = features.width();
    return rows.mapPartitions(it -> {
      GenericInternalRow row = new GenericInternalRow(4);
      float[] values = new float[width];
      return new java.util.Iterator<InternalRow>() {
        @Override
        public boolean hasNext() {
          return it.hasNext();
        }

        /** One row reused: what reads it (the layout's shuffle, a projection) copies it before the next. */
        @Override
        public InternalRow next() {
          InternalRow r = it.next();
          for (int i = 0; i < 3; i++) {
            row.update(i, r.get(i, out.fields()[i].dataType()));
          }
          features.encode(r, 4, values, 0, r.getInt(3));
          row.update(3, UnsafeArrayData.fromPrimitiveArray(values));
          return row;
        }
      };
    });
  }
}
