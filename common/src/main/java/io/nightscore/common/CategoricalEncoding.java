package io.nightscore.common;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.struct;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The value-to-index mapping of every categorical feature, learned on the training window and stored
 * with the model so scoring encodes exactly as training did. Index 0 is the most frequent value; the
 * index {@code size} is the shared rare bucket (values too rare at training time, or unseen since).
 */
public final class CategoricalEncoding implements Serializable {
  private static final long serialVersionUID = 1L;

  public static final StructType SCHEMA = new StructType()
      .add("feature", DataTypes.StringType, false)
      .add("value", DataTypes.StringType, false)
      .add("idx", DataTypes.IntegerType, false);

  private final Map<String, List<String>> vocabulary;

  private CategoricalEncoding(Map<String, List<String>> vocabulary) {
    Map<String, List<String>> copy = new LinkedHashMap<>();
    vocabulary.forEach((k, v) -> copy.put(k, List.copyOf(v)));
    this.vocabulary = Collections.unmodifiableMap(copy);
  }

  /**
   * Counts every categorical value on the cluster and keeps, per feature, the {@code maxCategories} most
   * frequent values seen at least {@code minCount} times. Only the kept vocabulary reaches the driver.
   */
  public static CategoricalEncoding fit(Dataset<Row> events, List<String> categorical, int maxCategories,
      long minCount) {
    Map<String, List<String>> vocab = new LinkedHashMap<>();
    categorical.forEach(f -> vocab.put(f, new ArrayList<>()));
    if (categorical.isEmpty()) {
      return new CategoricalEncoding(vocab);
    }
    Column[] pairs = categorical.stream()
        .map(f -> struct(lit(f).as("feature"), col(f).cast("string").as("value")))
        .toArray(Column[]::new);
    Dataset<Row> ranked = events.select(explode(array(pairs)).as("p"))
        .select(col("p.feature").as("feature"), col("p.value").as("value"))
        .where(col("value").isNotNull())
        .groupBy("feature", "value").agg(count(lit(1)).as("n"))
        .where(col("n").geq(minCount))
        .withColumn("rank", row_number().over(
            Window.partitionBy("feature").orderBy(col("n").desc(), col("value").asc())))
        .where(col("rank").leq(maxCategories))
        .orderBy("feature", "rank");
    for (Row r : ranked.select("feature", "value").collectAsList()) {
      vocab.get(r.getString(0)).add(r.getString(1));
    }
    return new CategoricalEncoding(vocab);
  }

  /** Rebuilds an encoding from its stored rows (feature, value, idx). */
  public static CategoricalEncoding fromRows(List<String> categorical, List<Row> rows) {
    Map<String, String[]> arrays = new LinkedHashMap<>();
    Map<String, Integer> sizes = new LinkedHashMap<>();
    for (Row r : rows) {
      sizes.merge(r.getString(0), 1, Integer::sum);
    }
    for (String f : categorical) {
      arrays.put(f, new String[sizes.getOrDefault(f, 0)]);
    }
    for (Row r : rows) {
      String[] values = arrays.get(r.getString(0));
      if (values == null) {
        throw new IllegalStateException("stored encoding has feature '" + r.getString(0)
            + "' that the model's feature list does not have");
      }
      values[r.getInt(2)] = r.getString(1);
    }
    Map<String, List<String>> vocab = new LinkedHashMap<>();
    arrays.forEach((f, v) -> vocab.put(f, List.of(v)));
    return new CategoricalEncoding(vocab);
  }

  public Dataset<Row> toDataFrame(SparkSession spark) {
    List<Row> rows = new ArrayList<>();
    vocabulary.forEach((f, values) -> {
      for (int i = 0; i < values.size(); i++) {
        rows.add(RowFactory.create(f, values.get(i), i));
      }
    });
    return spark.createDataFrame(rows, SCHEMA);
  }

  /** Values kept for a feature, in index order. */
  public List<String> values(String feature) {
    List<String> v = vocabulary.get(feature);
    if (v == null) {
      throw new IllegalArgumentException("no encoding for categorical feature '" + feature + "'");
    }
    return v;
  }

  /** The index shared by rare and unseen values of a feature. */
  public int rareIndex(String feature) {
    return values(feature).size();
  }

  public Map<String, List<String>> vocabulary() {
    return vocabulary;
  }
}
