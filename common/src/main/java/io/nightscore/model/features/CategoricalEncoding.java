package io.nightscore.model.features;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
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
 * <p>With target statistics ({@link #fitWithTargetStats}), each index also carries the smoothed conversion
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
   * The vocabulary of {@link #fit} with smoothed target rates, in one pass over labelled events (learning the
   * vocabulary and then its statistics would read them twice): one aggregate per (feature, value) holds the rows
   * and positives of each fold ({@link #valueStatsQuery}), the values are ranked on it as {@link #fit} ranks them,
   * and only the kept values' counts and one rare-bucket row per feature reach the driver: features ×
   * (max-categories + 1) rows, whatever the number of events. {@code fold} must be an integer column in
   * [0, folds).
   */
  public static TargetFit fitWithTargetStats(Dataset<Row> events, List<String> categorical, int maxCategories,
      long minCount, String labelCol, Column fold, int folds, double smoothing) {
    Map<String, List<String>> vocab = new LinkedHashMap<>();
    categorical.forEach(f -> vocab.put(f, new ArrayList<>()));
    List<Row> rows = new ArrayList<>(vocabularyAndTargetQuery(events, categorical, maxCategories, minCount, labelCol,
        fold, folds).collectAsList());
    // Kept values by rank (the vocabulary's order), then each feature's rare bucket (rank null).
    rows.sort(Comparator.comparing((Row r) -> r.isNullAt(2)).thenComparing(r -> r.isNullAt(2) ? 0 : r.getInt(2)));
    for (Row r : rows) {
      if (!r.isNullAt(2) && !r.getString(0).equals(ALL)) {
        vocab.get(r.getString(0)).add(r.getString(1));
      }
    }
    CategoricalEncoding encoding = new CategoricalEncoding(vocab);
    Counts c = new Counts(encoding, folds);
    for (Row r : rows) {
      String f = r.getString(0);
      int idx = f.equals(ALL) ? 0 : r.isNullAt(2) ? encoding.rareIndex(f) : r.getInt(2) - 1;
      for (int k = 0; k < folds; k++) {
        c.add(f, idx, k, r.getLong(3 + k), r.getDouble(3 + folds + k));
      }
    }
    return c.fit(smoothing);
  }

  /**
   * The query behind {@link #fitWithTargetStats}: {@link #valueStatsQuery} reduced to the kept values and the rare
   * buckets ({@link #keptValueStats}).
   */
  public static Dataset<Row> vocabularyAndTargetQuery(Dataset<Row> events, List<String> categorical,
      int maxCategories, long minCount, String labelCol, Column fold, int folds) {
    return keptValueStats(valueStatsQuery(events, categorical, labelCol, fold, folds), folds, maxCategories,
        minCount);
  }

  /**
   * The aggregate behind {@link #fitWithTargetStats}: per categorical feature and non-null value (and the
   * {@link #ALL} pseudo-feature), the rows of each fold {@code n0 .. n(folds-1)} and their positives {@code p0 ..}.
   * As many rows as {@link #vocabularyQuery}'s aggregate, with 2 × folds sums each.
   */
  static Dataset<Row> valueStatsQuery(Dataset<Row> events, List<String> categorical, String labelCol,
      Column fold, int folds) {
    Column[] pairs = java.util.stream.Stream.concat(categorical.stream()
        .map(f -> struct(lit(f).as("feature"), col(f).cast("string").as("value"))),
        java.util.stream.Stream.of(struct(lit(ALL).as("feature"), lit("").as("value"))))
        .toArray(Column[]::new);
    List<Column> sums = new ArrayList<>();
    for (int k = 0; k < folds; k++) {
      sums.add(count(when(col("_fold").equalTo(k), lit(1))).as("n" + k));
    }
    for (int k = 0; k < folds; k++) {
      sums.add(coalesce(sum(when(col("_fold").equalTo(k), col("_y"))), lit(0.0)).as("p" + k));
    }
    return events.select(explode(array(pairs)).as("_p"), col(labelCol).cast("double").as("_y"), fold.as("_fold"))
        .select(col("_p.feature").as("feature"), col("_p.value").as("value"), col("_y"), col("_fold"))
        .where(col("value").isNotNull())
        .groupBy("feature", "value")
        .agg(sums.get(0), sums.subList(1, sums.size()).toArray(new Column[0]));
  }

  /**
   * {@link #valueStatsQuery}'s rows reduced to what the encoding keeps: per feature, its kept values (seen at
   * least {@code minCount} times, the {@code maxCategories} most frequent, ties by value, as in
   * {@link #vocabularyQuery}) with their rank, and one row with a null value and rank summing the rest (the rare
   * bucket). Columns feature, value, rank, then the per-fold sums.
   */
  private static Dataset<Row> keptValueStats(Dataset<Row> stats, int folds, int maxCategories, long minCount) {
    Column total = lit(0L);
    List<Column> sums = new ArrayList<>();
    for (int k = 0; k < folds; k++) {
      total = total.plus(col("n" + k));
      sums.add(sum(col("n" + k)).as("n" + k));
    }
    for (int k = 0; k < folds; k++) {
      sums.add(sum(col("p" + k)).as("p" + k));
    }
    // Ranked by count among all values: those seen minCount times or more come first, so their ranks are the
    // ranks vocabularyQuery gives them after dropping the rest.
    Column kept = col("_n").geq(minCount).and(col("_rank").leq(maxCategories));
    return stats.withColumn("_n", total)
        .withColumn("_rank", rankInFeature(col("_n")))
        .groupBy(col("feature"), when(kept, col("value")).as("value"), when(kept, col("_rank")).as("rank"))
        .agg(sums.get(0), sums.subList(1, sums.size()).toArray(new Column[0]));
  }

  /** A value's place among its feature's values: by count {@code n}, most first, ties by value. */
  private static Column rankInFeature(Column n) {
    return row_number().over(Window.partitionBy("feature").orderBy(n.desc(), col("value").asc()));
  }

  /** Rows and positives per (feature, index, fold), and the prior's totals, turned into a {@link TargetFit}. */
  private static final class Counts {
    private final CategoricalEncoding encoding;
    private final int folds;
    private final Map<String, double[][]> n = new LinkedHashMap<>();
    private final Map<String, double[][]> pos = new LinkedHashMap<>();
    private double allRows;
    private double allPositives;

    Counts(CategoricalEncoding encoding, int folds) {
      this.encoding = encoding;
      this.folds = folds;
      for (String f : encoding.vocabulary.keySet()) {
        n.put(f, new double[encoding.rareIndex(f) + 1][folds]);
        pos.put(f, new double[encoding.rareIndex(f) + 1][folds]);
      }
    }

    void add(String feature, int idx, int fold, long rows, double positives) {
      if (feature.equals(ALL)) {
        allRows += rows;
        allPositives += positives;
        return;
      }
      n.get(feature)[idx][fold] += rows;
      pos.get(feature)[idx][fold] += positives;
    }

    TargetFit fit(double smoothing) {
      double prior = allRows == 0 ? 0 : allPositives / allRows;
      Map<String, double[]> full = new LinkedHashMap<>();
      Map<String, double[]> oof = new LinkedHashMap<>();
      for (String f : encoding.vocabulary.keySet()) {
        int size = encoding.rareIndex(f) + 1;
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
      return new TargetFit(new CategoricalEncoding(encoding.vocabulary, full), oof, folds);
    }
  }

  /** Pseudo-feature of {@link #valueStatsQuery} that counts every row, for the prior. */
  private static final String ALL = "\u0000all";

  /** The column {@link #lookup} adds for a categorical feature: the value's index, null if none. */
  static String hitColumn(String feature) {
    return "_hit_" + feature;
  }

  /** The column {@link #lookup} adds for a categorical feature: the payload of the value's index, an array. */
  static String payloadColumn(String feature) {
    return "_payload_" + feature;
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
        .withColumn("rank", rankInFeature(col("n")))
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
