package io.nightscore.model.features;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import io.nightscore.common.config.EventSchema;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
   * The columns {@code keep} and the schema's features, nothing else: what to assemble for prediction, which
   * passes every other column through unread by the optimiser (no column is pruned across it).
   */
  public static Dataset<Row> modelInputs(Dataset<Row> events, EventSchema schema, String... keep) {
    List<Column> cols = new ArrayList<>();
    for (String k : keep) {
      cols.add(col(k));
    }
    schema.features().forEach(f -> cols.add(col(f)));
    return events.select(cols.toArray(new Column[0]));
  }

  /**
   * Training rows: as {@link #assemble(Dataset, EventSchema, CategoricalEncoding)}, but with target
   * statistics each row gets the out-of-fold rate of its value ({@code fold} picks the row's fold).
   */
  public static Dataset<Row> assembleTraining(Dataset<Row> events, EventSchema schema,
      CategoricalEncoding.TargetFit target, Column fold) {
    return assemble(events, schema, target.encoding(), target, fold);
  }

  private static Dataset<Row> assemble(Dataset<Row> events, EventSchema schema, CategoricalEncoding encoding,
      CategoricalEncoding.TargetFit target, Column fold) {
    // What each categorical index becomes, carried in the lookup's broadcast tables: the out-of-fold rates
    // (one per fold) for training rows, otherwise the scoring input (stored rate, or the index).
    Map<String, float[][]> payload = new LinkedHashMap<>();
    for (String f : schema.categorical()) {
      int size = encoding.rareIndex(f) + 1;
      float[][] slots = new float[size][];
      float[] scoring = target == null ? encoding.modelInputs(f) : null;
      for (int i = 0; i < size; i++) {
        if (target == null) {
          slots[i] = new float[] {scoring[i]};
        } else {
          slots[i] = new float[target.folds()];
          for (int k = 0; k < target.folds(); k++) {
            slots[i][k] = (float) target.outOfFold().get(f)[i * target.folds() + k];
          }
        }
      }
      payload.put(f, slots);
    }
    // One projection for the numeric features (a withColumn per feature would re-analyse the growing plan each
    // time), then one lookup and one projection per categorical feature.
    Column nan = lit(Float.NaN);
    List<Column> numeric = new ArrayList<>();
    for (String c : events.columns()) {
      numeric.add(schema.numeric().contains(c) ? coalesce(col(c).cast("float"), nan).as(c) : col(c));
    }
    if (fold != null) {
      numeric.add(fold.as("_fold"));
    }
    Dataset<Row> features = events.select(numeric.toArray(new Column[0]));
    for (String f : schema.categorical()) {
      List<Column> cols = new ArrayList<>();
      for (String c : features.columns()) {
        cols.add(c.equals(f) ? when(col(c).isNull(), nan).otherwise(encoded(c, payload.get(c), encoding.rareIndex(c)))
            .as(c) : col(c));
      }
      features = encoding.lookup(features, f, payload.get(f)).select(cols.toArray(new Column[0]));
    }
    if (fold != null) {
      features = features.drop("_fold");
    }
    return features.withColumn(COLUMN, org.apache.spark.sql.functions.array(
        schema.features().stream().map(org.apache.spark.sql.functions::col).toArray(Column[]::new)));
  }

  /**
   * A present categorical value's model input: its payload (the slot of the row's fold when there is one per
   * fold), or the rare bucket's when the lookup missed.
   */
  private static Column encoded(String f, float[][] payload, int rare) {
    int width = payload[rare].length;
    Column position = width == 1 ? lit(1) : col("_fold").plus(1);
    Column rareValue = lit(payload[rare][0]);
    for (int k = 1; k < width; k++) {
      rareValue = when(col("_fold").equalTo(k), lit(payload[rare][k])).otherwise(rareValue);
    }
    return coalesce(element_at(col(CategoricalEncoding.payloadColumn(f)), position), rareValue);
  }
}
