package io.nightscore.common;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.when;

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
 *
 * <p>With target statistics ({@link #withTargetStats}), each index also carries the smoothed conversion
 * rate of its rows in the training window, {@code (positives + m * prior) / (rows + m)}; training rows get
 * the out-of-fold version of it (their own fold's rows left out), so a row's feature never contains its
 * own label.
 */
public final class CategoricalEncoding implements Serializable {
  private static final long serialVersionUID = 1L;

  public static final StructType SCHEMA = new StructType()
      .add("feature", DataTypes.StringType, false)
      .add("value", DataTypes.StringType, false)
      .add("idx", DataTypes.IntegerType, false)
      .add("target_rate", DataTypes.DoubleType, true);

  private final Map<String, List<String>> vocabulary;
  /** Per feature, the smoothed target rate of each index (the last entry is the rare bucket); empty if none. */
  private final Map<String, double[]> targetRates;

  private CategoricalEncoding(Map<String, List<String>> vocabulary, Map<String, double[]> targetRates) {
    Map<String, List<String>> copy = new LinkedHashMap<>();
    vocabulary.forEach((k, v) -> copy.put(k, List.copyOf(v)));
    this.vocabulary = Collections.unmodifiableMap(copy);
    Map<String, double[]> rates = new LinkedHashMap<>();
    targetRates.forEach((k, v) -> rates.put(k, v.clone()));
    this.targetRates = Collections.unmodifiableMap(rates);
  }

  private CategoricalEncoding(Map<String, List<String>> vocabulary) {
    this(vocabulary, Map.of());
  }

  /** The smoothed target rate of each index of a feature; the last entry is the rare bucket's. */
  public double[] targetRates(String feature) {
    double[] r = targetRates.get(feature);
    if (r == null) {
      throw new IllegalArgumentException("no target statistics for categorical feature '" + feature + "'");
    }
    return r.clone();
  }

  /**
   * Target statistics fitted on a training window: the encoding to store (full-window rates) and, per
   * feature, the out-of-fold rates training rows get, indexed by {@code index * folds + fold}.
   */
  public record TargetFit(CategoricalEncoding encoding, Map<String, double[]> outOfFold, int folds) {}

  /**
   * Adds smoothed target rates to this encoding from labelled events, computed on the cluster: one
   * aggregate of (feature, index, fold) counts whose size is bounded by features × (max-categories + 1) ×
   * folds, whatever the number of rows. {@code fold} must be an integer column in [0, folds).
   */
  public TargetFit withTargetStats(Dataset<Row> events, String labelCol, Column fold, int folds, double smoothing) {
    List<String> features = new ArrayList<>(vocabulary.keySet());
    List<Row> counts = targetCountsQuery(events, labelCol, fold).collectAsList();
    Map<String, double[][]> n = new LinkedHashMap<>();
    Map<String, double[][]> pos = new LinkedHashMap<>();
    for (String f : features) {
      n.put(f, new double[rareIndex(f) + 1][folds]);
      pos.put(f, new double[rareIndex(f) + 1][folds]);
    }
    double allRows = 0;
    double allPositives = 0;
    for (Row r : counts) {
      String f = r.getString(0);
      if (f.equals(ALL)) {
        allRows += r.getLong(3);
        allPositives += r.getDouble(4);
        continue;
      }
      int idx = r.getInt(1);
      int k = r.getInt(2);
      n.get(f)[idx][k] += r.getLong(3);
      pos.get(f)[idx][k] += r.getDouble(4);
    }
    double prior = allRows == 0 ? 0 : allPositives / allRows;
    Map<String, double[]> full = new LinkedHashMap<>();
    Map<String, double[]> oof = new LinkedHashMap<>();
    for (String f : features) {
      int size = rareIndex(f) + 1;
      double[] rates = new double[size];
      double[] out = new double[size * folds];
      for (int i = 0; i < size; i++) {
        double ni = 0;
        double pi = 0;
        for (int k = 0; k < folds; k++) {
          ni += n.get(f)[i][k];
          pi += pos.get(f)[i][k];
        }
        rates[i] = (pi + smoothing * prior) / (ni + smoothing);
        for (int k = 0; k < folds; k++) {
          out[i * folds + k] = (pi - pos.get(f)[i][k] + smoothing * prior) / (ni - n.get(f)[i][k] + smoothing);
        }
      }
      full.put(f, rates);
      oof.put(f, out);
    }
    return new TargetFit(new CategoricalEncoding(vocabulary, full), oof, folds);
  }

  /** Pseudo-feature of {@link #targetCountsQuery} that counts every row, for the prior. */
  private static final String ALL = "\u0000all";

  /** The aggregate behind {@link #withTargetStats}: rows and positives per (feature, index, fold). */
  public Dataset<Row> targetCountsQuery(Dataset<Row> events, String labelCol, Column fold) {
    Column[] pairs = java.util.stream.Stream.concat(vocabulary.keySet().stream()
        .map(f -> struct(lit(f).as("feature"), col(indexColumn(f)).as("idx"))),
        java.util.stream.Stream.of(struct(lit(ALL).as("feature"), lit(0).as("idx"))))
        .toArray(Column[]::new);
    return withIndices(events)
        .select(explode(array(pairs)).as("p"), col(labelCol).cast("double").as("_y"), fold.as("_fold"))
        .where(col("p.idx").isNotNull())
        .groupBy(col("p.feature"), col("p.idx"), col("_fold"))
        .agg(count(lit(1)), org.apache.spark.sql.functions.sum(col("_y")));
  }

  /** The column {@link #withIndices} adds for a categorical feature. */
  public static String indexColumn(String feature) {
    return "_idx_" + feature;
  }

  /** The column {@link #lookup} adds for a categorical feature: the value's index, null if none. */
  static String hitColumn(String feature) {
    return "_hit_" + feature;
  }

  /** The column {@link #lookup} adds for a categorical feature: the payload of the value's index, an array. */
  static String payloadColumn(String feature) {
    return "_payload_" + feature;
  }

  /**
   * Adds every categorical feature's index as an int column {@link #indexColumn}: null for a missing value,
   * the rare index for a value outside the vocabulary.
   */
  public Dataset<Row> withIndices(Dataset<Row> events) {
    Dataset<Row> out = events;
    for (String f : vocabulary.keySet()) {
      List<Column> cols = new ArrayList<>();
      for (String c : out.columns()) {
        cols.add(col(c));
      }
      cols.add(when(col(f).isNull(), lit(null).cast("int"))
          .otherwise(coalesce(col(hitColumn(f)), lit(rareIndex(f)))).as(indexColumn(f)));
      out = lookup(out, f, new float[rareIndex(f) + 1][0]).select(cols.toArray(new Column[0]));
    }
    return out;
  }

  /**
   * The events with one categorical feature's vocabulary joined on its value: a broadcast hash join against a
   * table of at most max-categories rows (a hash lookup per row, where a literal map would compare the value
   * with the vocabulary's entries one by one). Adds {@link #hitColumn}(f), the value's index or null (missing
   * value, or outside the vocabulary), and, when the payload rows are not empty, {@link #payloadColumn}(f),
   * the float array {@code payload[index]} or null. The payload's last row (the rare index) stays with the
   * caller: it is what a null hit on a present value means. Payloads ride in the broadcast, not in the query
   * plan, so every task does not deserialize them. Callers replace the added columns by what they compute from
   * them before joining the next feature: rows wider than 100 fields lose Spark's whole-stage code generation.
   */
  Dataset<Row> lookup(Dataset<Row> events, String f, float[][] payload) {
    List<String> values = values(f);
    if (payload.length != values.size() + 1) {
      throw new IllegalArgumentException("payload of '" + f + "' must have " + (values.size() + 1)
          + " rows (one per index and the rare bucket)");
    }
    int width = payload[0].length;
    String valueCol = "_vocab_value_" + f;
    StructType schema = new StructType().add(valueCol, DataTypes.StringType, false)
        .add(hitColumn(f), DataTypes.IntegerType, false);
    if (width > 0) {
      schema = schema.add(payloadColumn(f), DataTypes.createArrayType(DataTypes.FloatType, false), false);
    }
    List<Row> rows = new ArrayList<>(values.size());
    for (int i = 0; i < values.size(); i++) {
      Float[] boxed = new Float[width];
      for (int k = 0; k < width; k++) {
        boxed[k] = payload[i][k];
      }
      rows.add(width > 0 ? RowFactory.create(values.get(i), i, boxed) : RowFactory.create(values.get(i), i));
    }
    Dataset<Row> table = events.sparkSession().createDataFrame(rows, schema);
    return events.join(org.apache.spark.sql.functions.broadcast(table), col(f).cast("string").equalTo(col(valueCol)),
        "left").drop(valueCol);
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
    Dataset<Row> ranked = vocabularyQuery(events, categorical, maxCategories, minCount);
    for (Row r : ranked.select("feature", "value").collectAsList()) {
      vocab.get(r.getString(0)).add(r.getString(1));
    }
    return new CategoricalEncoding(vocab);
  }

  /**
   * The query behind {@link #fit}: per feature, the values seen at least {@code minCount} times, ranked by
   * frequency (ties by value), the {@code maxCategories} first; columns feature, value, n, rank.
   */
  public static Dataset<Row> vocabularyQuery(Dataset<Row> events, List<String> categorical, int maxCategories,
      long minCount) {
    Column[] pairs = categorical.stream()
        .map(f -> struct(lit(f).as("feature"), col(f).cast("string").as("value")))
        .toArray(Column[]::new);
    return events.select(explode(array(pairs)).as("p"))
        .select(col("p.feature").as("feature"), col("p.value").as("value"))
        .where(col("value").isNotNull())
        .groupBy("feature", "value").agg(count(lit(1)).as("n"))
        .where(col("n").geq(minCount))
        .withColumn("rank", row_number().over(
            Window.partitionBy("feature").orderBy(col("n").desc(), col("value").asc())))
        .where(col("rank").leq(maxCategories))
        .orderBy("feature", "rank");
  }

  /** Rebuilds an encoding from its stored rows (feature, value, idx). */
  public static CategoricalEncoding fromRows(List<String> categorical, List<Row> rows) {
    Map<String, String[]> arrays = new LinkedHashMap<>();
    Map<String, Integer> sizes = new LinkedHashMap<>();
    Map<String, double[]> rates = new LinkedHashMap<>();
    for (Row r : rows) {
      if (r.getInt(2) >= 0) {
        sizes.merge(r.getString(0), 1, Integer::sum);
      }
    }
    for (Row r : rows) {
      if (!r.isNullAt(3)) {
        double[] fr = rates.computeIfAbsent(r.getString(0), f -> new double[sizes.getOrDefault(f, 0) + 1]);
        fr[r.getInt(2) < 0 ? fr.length - 1 : r.getInt(2)] = r.getDouble(3);
      }
    }
    for (String f : categorical) {
      arrays.put(f, new String[sizes.getOrDefault(f, 0)]);
    }
    for (Row r : rows) {
      if (r.getInt(2) < 0) {
        continue;
      }
      String[] values = arrays.get(r.getString(0));
      if (values == null) {
        throw new IllegalStateException("stored encoding has feature '" + r.getString(0)
            + "' that the model's feature list does not have");
      }
      values[r.getInt(2)] = r.getString(1);
    }
    Map<String, List<String>> vocab = new LinkedHashMap<>();
    arrays.forEach((f, v) -> vocab.put(f, List.of(v)));
    return new CategoricalEncoding(vocab, rates);
  }

  public Dataset<Row> toDataFrame(SparkSession spark) {
    List<Row> rows = new ArrayList<>();
    vocabulary.forEach((f, values) -> {
      double[] rates = targetRates.get(f);
      for (int i = 0; i < values.size(); i++) {
        rows.add(RowFactory.create(f, values.get(i), i, rates == null ? null : rates[i]));
      }
      if (rates != null) {
        // The rare bucket's rate: index -1, no value.
        rows.add(RowFactory.create(f, "", -1, rates[values.size()]));
      }
    });
    return spark.createDataFrame(rows, SCHEMA);
  }

  /**
   * The model input of each index of a feature when scoring (the last is the rare bucket's): its target rate
   * with target statistics, otherwise the index itself.
   */
  public float[] modelInputs(String feature) {
    double[] rates = targetRates.get(feature);
    float[] inputs = new float[rareIndex(feature) + 1];
    for (int i = 0; i < inputs.length; i++) {
      inputs[i] = rates == null ? i : (float) rates[i];
    }
    return inputs;
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
