package io.nightscore.model.quality;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.desc;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.when;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.nightscore.common.table.TextFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;

/**
 * Population stability of a day against a model's training baseline. A baseline holds, per feature, the bins
 * of its training-window values (numeric: quantile edges; categorical: the most frequent values, the rest of the
 * model's vocabulary as {@link #OTHER}, values outside it as {@link #UNSEEN}; missing values as {@link #NULL}) and
 * the share of rows in each. A day's rows are counted in the same bins, bins that expect fewer than
 * {@code minBinRows} of the day's rows are merged with their neighbours, and PSI = Σ (a - e) ln(a / e) over the
 * merged bins. The null and unseen bins carry the data-quality signals: each stays apart once it expects or holds
 * {@code minBinRows} rows, and below that joins the last group, since a bin of a few expected rows turns chance
 * into false alarms on small days.
 */
public final class Drift {
  public static final String NULL = "__null__";
  public static final String OTHER = "__other__";
  public static final String UNSEEN = "__unseen__";
  /** The feature name score drift is recorded under. */
  public static final String SCORE = "_score";
  /** Quantile bins of a numeric baseline, and frequent values kept per categorical. */
  public static final int QUANTILES = 10;
  public static final int TOP_VALUES = 20;
  /** Training-window rows a baseline is computed from, at most (a seeded sample above it). */
  public static final long SAMPLE_ROWS = 500_000;
  /** Shares below this count as this in PSI (a bin empty on one side). */
  static final double FLOOR = 1e-4;
  private static final ObjectMapper JSON = new ObjectMapper();

  private Drift() {}

  /**
   * One feature's baseline. {@code kind}: numeric, categorical or score. {@code edges}: a numeric's bin edges
   * (bin i holds edges[i-1] < v <= edges[i]); {@code top}: a categorical's frequent values; {@code shares}: the
   * share of rows per bin, in the order bins are merged; {@code mean}: a numeric's mean (NaN otherwise).
   */
  public record FeatureBaseline(String feature, String kind, List<Double> edges, List<String> top,
      Map<String, Double> shares, double mean) {
    public double share(String bin) {
      return shares.getOrDefault(bin, 0.0);
    }
  }

  /** A model's baseline: the training-window profile of every feature and its holdout score distribution. */
  public record Baseline(long rows, List<FeatureBaseline> features, FeatureBaseline score) {}

  /** The bin of {@code value} under {@code b}: {@link #NULL}, a numeric's bin index, or a categorical's value. */
  public static Column bin(FeatureBaseline b, Column value, Set<String> vocabulary) {
    if (b.kind().equals("categorical")) {
      Column known = vocabulary == null || vocabulary.isEmpty() ? lit(false) : value.isin(vocabulary.toArray());
      Column top = b.top().isEmpty() ? lit(false) : value.isin(b.top().toArray());
      return when(value.isNull(), lit(NULL)).when(top, value).when(known, lit(OTHER)).otherwise(lit(UNSEEN));
    }
    Column index = lit(0);
    for (double e : b.edges()) {
      index = index.plus(when(value.gt(e), lit(1)).otherwise(lit(0)));
    }
    return when(value.isNull().or(org.apache.spark.sql.functions.isnan(value)), lit(NULL))
        .otherwise(index.cast("string"));
  }

  /** Rows per (feature, bin) of {@code rows} under the baselines; one aggregate over the rows. */
  public static Map<String, Map<String, Long>> counts(Dataset<Row> rows, List<FeatureBaseline> baselines,
      Map<String, Set<String>> vocabulary) {
    if (baselines.isEmpty()) {
      return Map.of();
    }
    Column[] pairs = baselines.stream().map(b -> struct(lit(b.feature()).as("f"),
        bin(b, col(quoted(b.feature())), vocabulary.get(b.feature())).as("b"))).toArray(Column[]::new);
    Map<String, Map<String, Long>> out = new HashMap<>();
    for (Row r : rows.select(explode(array(pairs)).as("p")).groupBy(col("p.f"), col("p.b")).agg(count(lit(1)))
        .collectAsList()) {
      out.computeIfAbsent(r.getString(0), k -> new HashMap<>()).put(r.getString(1), r.getLong(2));
    }
    return out;
  }

  /**
   * The baselines of {@code numeric} and {@code categorical} columns of {@code rows} ({@code n} of them, a training
   * window; sampled down to {@link #SAMPLE_ROWS} with {@code seed}) against the model's categorical
   * {@code vocabulary}.
   */
  public static List<FeatureBaseline> profile(Dataset<Row> rows, long n, List<String> numeric,
      List<String> categorical, Map<String, Set<String>> vocabulary, long seed) {
    Dataset<Row> sample = n > SAMPLE_ROWS ? rows.sample(false, (double) SAMPLE_ROWS / n, seed) : rows;
    sample = sample.select(java.util.stream.Stream.concat(numeric.stream(), categorical.stream())
        .map(c -> col(quoted(c))).toArray(Column[]::new)).cache();
    try {
      List<FeatureBaseline> draft = new ArrayList<>();
      if (!numeric.isEmpty()) {
        double[] probs = new double[QUANTILES - 1];
        for (int i = 0; i < probs.length; i++) {
          probs[i] = (i + 1.0) / QUANTILES;
        }
        Dataset<Row> asDouble = sample.select(numeric.stream().map(c -> col(quoted(c)).cast("double").as(c))
            .toArray(Column[]::new));
        double[][] q = asDouble.stat().approxQuantile(numeric.toArray(new String[0]), probs, 0.001);
        Row means = asDouble.agg(org.apache.spark.sql.functions.avg(quoted(numeric.get(0))),
            numeric.stream().skip(1).map(c -> org.apache.spark.sql.functions.avg(quoted(c))).toArray(Column[]::new))
            .head();
        for (int i = 0; i < numeric.size(); i++) {
          List<Double> edges = java.util.Arrays.stream(q[i]).distinct().sorted().boxed().toList();
          draft.add(new FeatureBaseline(numeric.get(i), "numeric", edges, List.of(), Map.of(),
              means.isNullAt(i) ? Double.NaN : means.getDouble(i)));
        }
      }
      if (!categorical.isEmpty()) {
        Column[] pairs = categorical.stream().map(c -> struct(lit(c).as("f"), col(quoted(c)).cast("string").as("v")))
            .toArray(Column[]::new);
        Map<String, List<String>> top = new HashMap<>();
        for (Row r : sample.select(explode(array(pairs)).as("p")).where(col("p.v").isNotNull())
            .groupBy(col("p.f").as("f"), col("p.v").as("v")).agg(count(lit(1)).as("n"))
            .withColumn("rank", row_number().over(Window.partitionBy("f").orderBy(desc("n"), col("v"))))
            .where(col("rank").leq(TOP_VALUES)).orderBy("f", "rank").collectAsList()) {
          top.computeIfAbsent(r.getString(0), k -> new ArrayList<>()).add(r.getString(1));
        }
        for (String c : categorical) {
          draft.add(new FeatureBaseline(c, "categorical", List.of(), top.getOrDefault(c, List.of()), Map.of(),
              Double.NaN));
        }
      }
      Map<String, Map<String, Long>> counts = counts(sample, draft, vocabulary);
      return draft.stream().map(b -> withShares(b, counts.getOrDefault(b.feature(), Map.of()))).toList();
    } finally {
      sample.unpersist();
    }
  }

  /** The baseline of a score column: decile edges of the scores, their shares and mean. */
  public static FeatureBaseline scoreProfile(Dataset<Row> scored, String scoreCol) {
    double[] probs = new double[QUANTILES - 1];
    for (int i = 0; i < probs.length; i++) {
      probs[i] = (i + 1.0) / QUANTILES;
    }
    Dataset<Row> s = scored.select(col(scoreCol).cast("double").as(SCORE));
    double[] q = s.stat().approxQuantile(SCORE, probs, 0.0005);
    Row mean = s.agg(org.apache.spark.sql.functions.avg(SCORE)).head();
    FeatureBaseline draft = new FeatureBaseline(SCORE, "score",
        java.util.Arrays.stream(q).distinct().sorted().boxed().toList(), List.of(), Map.of(),
        mean.isNullAt(0) ? Double.NaN : mean.getDouble(0));
    return withShares(draft, counts(s, List.of(draft), Map.of()).getOrDefault(SCORE, Map.of()));
  }

  /** {@code b} with the shares of {@code counts}, its bins in merge order. */
  static FeatureBaseline withShares(FeatureBaseline b, Map<String, Long> counts) {
    long total = counts.values().stream().mapToLong(Long::longValue).sum();
    Map<String, Double> shares = new LinkedHashMap<>();
    for (String bin : binOrder(b)) {
      shares.put(bin, total == 0 ? 0.0 : counts.getOrDefault(bin, 0L) / (double) total);
    }
    return new FeatureBaseline(b.feature(), b.kind(), b.edges(), b.top(), shares, b.mean());
  }

  /** Bins in the order neighbours merge: a numeric's by value; a categorical's by frequency; null and unseen last. */
  static List<String> binOrder(FeatureBaseline b) {
    List<String> bins = new ArrayList<>();
    if (b.kind().equals("categorical")) {
      bins.addAll(b.top());
      bins.add(OTHER);
      bins.add(UNSEEN);
    } else {
      for (int i = 0; i <= b.edges().size(); i++) {
        bins.add(String.valueOf(i));
      }
    }
    bins.add(NULL);
    return bins;
  }

  /** A day's stability against one baseline: PSI, the merged bins it used, and the day's null and unseen shares. */
  public record Stability(double psi, int bins, long rows, double nullShare, double unseenShare) {}

  /** The day's {@code counts} per bin against {@code b}, bins merged to expect {@code minBinRows} rows each. */
  public static Stability stability(FeatureBaseline b, Map<String, Long> counts, long minBinRows) {
    long n = counts.values().stream().mapToLong(Long::longValue).sum();
    if (n == 0) {
      return new Stability(Double.NaN, 0, 0, Double.NaN, Double.NaN);
    }
    List<double[]> groups = new ArrayList<>(); // {expected share, actual share}: merged ordered bins
    List<double[]> apart = new ArrayList<>();  // the null and unseen bins large enough to stand alone
    double e = 0;
    double a = 0;
    for (String bin : binOrder(b)) {
      double share = b.share(bin);
      double actual = counts.getOrDefault(bin, 0L) / (double) n;
      if ((bin.equals(NULL) || bin.equals(UNSEEN)) && Math.max(share, actual) * n >= minBinRows) {
        apart.add(new double[] {share, actual});
        continue;
      }
      e += share;
      a += actual;
      if (e * n >= minBinRows) {
        groups.add(new double[] {e, a});
        e = 0;
        a = 0;
      }
    }
    if (e > 0 || a > 0) {
      // The last bins expect too few rows on their own: they join the group before them, if any.
      if (groups.isEmpty()) {
        groups.add(new double[] {e, a});
      } else {
        groups.get(groups.size() - 1)[0] += e;
        groups.get(groups.size() - 1)[1] += a;
      }
    }
    int bins = groups.size();
    groups.addAll(apart);
    double psi = 0;
    for (double[] g : groups) {
      if (g[0] > 0 || g[1] > 0) {
        double ge = Math.max(g[0], FLOOR);
        double ga = Math.max(g[1], FLOOR);
        psi += (ga - ge) * Math.log(ga / ge);
      }
    }
    return new Stability(psi, bins + apart.size(), n, counts.getOrDefault(NULL, 0L) / (double) n,
        b.kind().equals("categorical") ? counts.getOrDefault(UNSEEN, 0L) / (double) n : Double.NaN);
  }

  /** ok, warn or alert for a PSI against the thresholds (NaN: no rows, ok). */
  public static String status(double psi, double warn, double alert) {
    return Double.isNaN(psi) || psi < warn ? "ok" : psi < alert ? "warn" : "alert";
  }

  /** Writes a baseline as JSON to {@code path} (a Hadoop path: local, HDFS, object storage). */
  public static void write(SparkSession spark, Baseline baseline, String path) {
    try {
      TextFiles.write(spark, path, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(baseline));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the baseline " + path, e);
    }
  }

  /** The baseline at {@code path}, empty when there is none (a model trained before baselines were stored). */
  public static java.util.Optional<Baseline> read(SparkSession spark, String path) {
    try {
      java.util.Optional<String> text = TextFiles.read(spark, path);
      return text.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(JSON.readValue(text.get(),
          Baseline.class));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the baseline " + path, e);
    }
  }

  private static String quoted(String column) {
    return "`" + column.replace("`", "``") + "`";
  }
}
