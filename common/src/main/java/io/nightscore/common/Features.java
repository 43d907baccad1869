package io.nightscore.common;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Turns event columns into the float feature columns XGBoost reads: numeric values as floats,
 * categorical values as their encoding index, and every missing value as NaN (XGBoost's missing).
 * Built-in expressions only, no UDFs, so the optimiser (and later the RAPIDS Accelerator) can see them.
 */
public final class Features {
  /** XGBoost feature type of a numeric (quantitative) feature. */
  public static final String NUMERIC = "q";
  /** XGBoost feature type of a categorical feature: native categorical splits. */
  public static final String CATEGORICAL = "c";

  private Features() {}

  /** The array column XGBoost reads: every feature as a float, in {@link EventSchema#features()} order. */
  public static final String COLUMN = "_features";

  /**
   * XGBoost feature types in {@link EventSchema#features()} order: categorical features are "c" in
   * "native" mode and numeric (their frequency-rank index) in "ordinal" mode.
   */
  public static String[] types(EventSchema schema, String categoricalMode) {
    // "ordinal" and "target" both give XGBoost a number per categorical.
    List<String> types = new ArrayList<>();
    schema.numeric().forEach(f -> types.add(NUMERIC));
    String cat = "native".equals(categoricalMode) ? CATEGORICAL : NUMERIC;
    schema.categorical().forEach(f -> types.add(cat));
    return types.toArray(new String[0]);
  }

  /**
   * Replaces each feature column with its float model input and adds them, in order, as the array column
   * {@link #COLUMN}; the other columns pass through. NaN marks missing because null cannot reach
   * XGBoost's native matrix.
   */
  public static Dataset<Row> assemble(Dataset<Row> events, EventSchema schema, CategoricalEncoding encoding) {
    return assemble(events, schema, encoding, null, null);
  }

  /**
   * Training rows: as {@link #assemble(Dataset, EventSchema, CategoricalEncoding)}, but with target
   * statistics each row gets the out-of-fold rate of its value ({@code fold} picks the row's fold).
   */
  public static Dataset<Row> assembleTraining(Dataset<Row> events, EventSchema schema,
      CategoricalEncoding.TargetFit target, Column fold) {
    return assemble(events, schema, target.encoding(), target, fold);
  }

  private static Column floats(double[] values) {
    float[] f = new float[values.length];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) values[i];
    }
    return lit(f);
  }

  private static Dataset<Row> assemble(Dataset<Row> events, EventSchema schema, CategoricalEncoding encoding,
      CategoricalEncoding.TargetFit target, Column fold) {
    Dataset<Row> out = events;
    Column nan = lit(Float.NaN);
    for (String f : schema.numeric()) {
      out = out.withColumn(f, coalesce(col(f).cast("float"), nan));
    }
    if (fold != null) {
      out = out.withColumn("_fold", fold);
    }
    out = encoding.withIndices(out);
    for (String f : schema.categorical()) {
      Column index = col(CategoricalEncoding.indexColumn(f));
      Column encoded;
      if (target != null) {
        encoded = element_at(floats(target.outOfFold().get(f)),
            index.multiply(target.folds()).plus(col("_fold")).plus(1));
      } else if (encoding.hasTargetRates()) {
        encoded = element_at(floats(encoding.targetRates(f)), index.plus(1));
      } else {
        encoded = index.cast("float");
      }
      out = out.withColumn(f, when(index.isNull(), nan).otherwise(encoded));
    }
    for (String f : schema.categorical()) {
      out = out.drop(CategoricalEncoding.indexColumn(f));
    }
    if (fold != null) {
      out = out.drop("_fold");
    }
    return out.withColumn(COLUMN, org.apache.spark.sql.functions.array(
        schema.features().stream().map(org.apache.spark.sql.functions::col).toArray(Column[]::new)));
  }
}
