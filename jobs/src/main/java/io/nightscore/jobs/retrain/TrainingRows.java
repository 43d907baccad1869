package io.nightscore.jobs.retrain;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.nightscore.common.CategoricalEncoding;
import io.nightscore.common.EventSchema;
import io.nightscore.common.Features;
import io.nightscore.common.RowFeatures;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Events XGBoost trains (or early-stops) on, and how their model inputs are made: with the stored encoding
 * (scoring's inputs), or with target statistics, where each training row gets the out-of-fold rate of its
 * fold. Two renderings of the same floats: {@link #assembled} with Spark expressions (what the RAPIDS
 * Accelerator runs and gpu-check explains) and {@link #encoded}, the CPU's, computed in one pass over Spark's
 * internal rows ({@link RowFeatures}) instead of a broadcast join and a projection per categorical feature.
 */
public final class TrainingRows {
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
   * {@link #assembled}'s, computed by {@link RowFeatures} in one pass over the rows; null when a feature
   * column has a type that pass does not read (then use {@link #assembled}).
   */
  public Dataset<Row> encoded() {
    List<Column> cols = new ArrayList<>(List.of(col(schema.label()), col(schema.id()), col("dt"),
        (fold == null ? lit(0) : fold).as("_fold")));
    schema.features().forEach(f -> cols.add(col(f)));
    Dataset<Row> rows = events.select(cols.toArray(new Column[0]));
    RowFeatures features = target == null ? RowFeatures.of(rows.schema(), schema.features(), schema, encoding)
        : RowFeatures.training(rows.schema(), schema.features(), schema, target);
    if (features == null) {
      return null;
    }
    StructType in = rows.schema();
    StructType out = new StructType().add(in.fields()[0]).add(in.fields()[1]).add(in.fields()[2])
        .add(Features.COLUMN, DataTypes.createArrayType(DataTypes.FloatType, false), false);
    JavaRDD<InternalRow> encoded = encode(rows.queryExecution().toRdd().toJavaRDD(), features, out);
    return events.sparkSession().internalCreateDataFrame(encoded.rdd(), out, false);
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
