package io.nightscore.common;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.map_from_arrays;
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
    Dataset<Row> out = events;
    Column nan = lit(Float.NaN);
    for (String f : schema.numeric()) {
      out = out.withColumn(f, coalesce(col(f).cast("float"), nan));
    }
    for (String f : schema.categorical()) {
      List<String> values = encoding.values(f);
      float[] indices = new float[values.size()];
      for (int i = 0; i < indices.length; i++) {
        indices[i] = i;
      }
      Column value = col(f).cast("string");
      Column index = values.isEmpty()
          ? lit(null).cast("float")
          : element_at(map_from_arrays(lit(values.toArray(new String[0])), lit(indices)), value);
      out = out.withColumn(f, when(value.isNull(), nan)
          .otherwise(coalesce(index, lit((float) encoding.rareIndex(f)))));
    }
    return out.withColumn(COLUMN, org.apache.spark.sql.functions.array(
        schema.features().stream().map(org.apache.spark.sql.functions::col).toArray(Column[]::new)));
  }
}
