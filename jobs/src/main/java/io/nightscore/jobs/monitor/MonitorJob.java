package io.nightscore.jobs.monitor;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.desc;
import static org.apache.spark.sql.functions.lit;

import io.nightscore.common.config.EventSchema;
import io.nightscore.common.config.MonitorSettings;
import io.nightscore.common.config.Settings;
import io.nightscore.common.registry.ModelRecord;
import io.nightscore.common.registry.ModelRegistry;
import io.nightscore.common.registry.ModelStore;
import io.nightscore.common.sql.JobFailedException;
import io.nightscore.common.table.Labels;
import io.nightscore.common.table.Table;
import io.nightscore.common.table.Warehouse;
import io.nightscore.jobs.retrain.RetrainJob;
import io.nightscore.model.quality.BinaryMetrics;
import io.nightscore.model.quality.Drift;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Monitoring of one night: drift of day D's events and scores against the baseline of the model that scored D
 * (into {@code monitor_drift}), and the realized quality of every scored day whose labels may have changed since
 * the last run (into {@code monitor_quality}). Writes and prints; {@code check} fails the night on its alerts.
 */
public final class MonitorJob {
  private static final Logger LOG = LoggerFactory.getLogger(MonitorJob.class);

  public static final StructType DRIFT_SCHEMA = new StructType()
      .add("dt", DataTypes.DateType, false)
      .add("model_version", DataTypes.LongType, false)
      .add("feature", DataTypes.StringType, false)
      .add("kind", DataTypes.StringType, false)
      .add("rows", DataTypes.LongType, false)
      .add("bins", DataTypes.IntegerType, false)
      .add("null_share", DataTypes.DoubleType, true)
      .add("baseline_null_share", DataTypes.DoubleType, true)
      .add("unseen_share", DataTypes.DoubleType, true)
      .add("baseline_unseen_share", DataTypes.DoubleType, true)
      .add("mean", DataTypes.DoubleType, true)
      .add("baseline_mean", DataTypes.DoubleType, true)
      .add("psi", DataTypes.DoubleType, true)
      .add("status", DataTypes.StringType, false)
      .add("monitored_at", DataTypes.TimestampType, false);

  public static final StructType QUALITY_SCHEMA = new StructType()
      .add("dt", DataTypes.DateType, false)
      .add("model_version", DataTypes.LongType, false)
      .add("scorer", DataTypes.StringType, false)
      .add("rows", DataTypes.LongType, false)
      .add("labelled_rows", DataTypes.LongType, false)
      .add("positives", DataTypes.LongType, false)
      .add("mature", DataTypes.BooleanType, false)
      .add("auc", DataTypes.DoubleType, true)
      .add("log_loss", DataTypes.DoubleType, true)
      .add("normalized_entropy", DataTypes.DoubleType, true)
      .add("calibration", DataTypes.DoubleType, true)
      .add("holdout_auc", DataTypes.DoubleType, true)
      .add("status", DataTypes.StringType, false)
      .add("detail", DataTypes.StringType, true)
      .add("run_date", DataTypes.DateType, false)
      .add("monitored_at", DataTypes.TimestampType, false);

  /** One feature's drift on the day. */
  public record DriftRow(String feature, String kind, Drift.Stability stability, double mean, double baselineMean,
      double baselineNull, double baselineUnseen, String status) {}

  /** One scored day's realized quality. */
  public record QualityRow(LocalDate dt, long modelVersion, String scorer, long rows, long labelled, long positives,
      boolean mature, BinaryMetrics metrics, double holdoutAuc, String status, String detail) {}

  public record Result(LocalDate date, Long modelVersion, String driftNote, List<DriftRow> drift,
      List<QualityRow> quality, String page) {
    public List<String> lines() {
      List<String> out = new ArrayList<>();
      List<String> alerts = drift.stream().filter(d -> d.status().equals("alert")).map(DriftRow::feature).sorted().toList();
      List<String> warns = drift.stream().filter(d -> d.status().equals("warn")).map(DriftRow::feature).sorted().toList();
      out.add(String.format(Locale.ROOT, "monitor %s: drift model_version=%s features=%d alerts=%s warnings=%s%s",
          date, modelVersion, drift.size(), alerts, warns, driftNote == null ? "" : " (" + driftNote + ")"));
      for (QualityRow q : quality) {
        out.add(String.format(Locale.ROOT, "monitor %s: quality dt=%s model_version=%d scorer=%s labelled_rows=%d "
                + "positives=%d mature=%s auc=%.4f calibration=%.3f status=%s%s", date, q.dt(), q.modelVersion(),
            q.scorer(), q.labelled(), q.positives(), q.mature(), q.metrics() == null ? Double.NaN : q.metrics().auc(),
            q.metrics() == null ? Double.NaN : q.metrics().calibrationRatio(), q.status(),
            q.detail() == null ? "" : " (" + q.detail() + ")"));
      }
      out.add("monitor " + date + ": page " + page);
      return out;
    }
  }

  private MonitorJob() {}

  public static Result run(SparkSession spark, Settings settings, LocalDate date) {
    Warehouse warehouse = new Warehouse(spark, settings);
    if (!warehouse.exists(Table.EVENTS)) {
      throw new JobFailedException(warehouse.qualified(Table.EVENTS) + " does not exist: nothing to monitor for "
          + date);
    }
    Timestamp now = Timestamp.from(Instant.now());
    ModelStore store = new ModelStore(warehouse);

    // Drift: against the model that scored the day (the champion when the day is not scored yet).
    Long version = scoringVersion(warehouse, date).orElse(
        new ModelRegistry(warehouse).champion().map(ModelRegistry.Alias::version).orElse(null));
    String note = null;
    List<DriftRow> drift = List.of();
    if (version == null) {
      note = "no model yet: nothing to compare with";
    } else {
      ModelRecord record = store.get(version);
      Optional<Drift.Baseline> baseline = Drift.read(spark, record.artifactPath() + "/" + RetrainJob.BASELINE_FILE);
      if (baseline.isEmpty()) {
        note = "model v" + version + " was trained before baselines were stored: retrain to monitor drift";
      } else {
        spark.sparkContext().setJobDescription("monitor " + date + ": drift against model v" + version);
      }
      if (baseline.isPresent() && warehouse.day(Table.EVENTS, date).isEmpty()) {
        note = "no events ingested for " + date;
      } else if (baseline.isPresent()) {
        drift = drift(warehouse, settings, date, version, baseline.get(), RetrainJob.vocabulary(store.encoding(record)));
        List<Row> rows = new ArrayList<>();
        java.sql.Date dt = java.sql.Date.valueOf(date);
        for (DriftRow d : drift) {
          rows.add(RowFactory.create(dt, version, d.feature(), d.kind(), d.stability().rows(), d.stability().bins(),
              nan(d.stability().nullShare()), nan(d.baselineNull()), nan(d.stability().unseenShare()),
              nan(d.baselineUnseen()), nan(d.mean()), nan(d.baselineMean()), nan(d.stability().psi()), d.status(), now));
        }
        warehouse.overwriteDay(spark.createDataFrame(rows, DRIFT_SCHEMA), Table.MONITOR_DRIFT, date);
      }
    }

    // Realized quality of the days whose labels may have changed since yesterday's run.
    List<QualityRow> quality = quality(warehouse, settings, date, store);
    LocalDate from = qualityFrom(settings, date);
    if (warehouse.exists(Table.SCORES)) {
      List<Row> rows = new ArrayList<>();
      for (QualityRow q : quality) {
        BinaryMetrics m = q.metrics();
        rows.add(RowFactory.create(java.sql.Date.valueOf(q.dt()), q.modelVersion(), q.scorer(), q.rows(), q.labelled(),
            q.positives(), q.mature(), m == null ? null : nan(m.auc()), m == null ? null : nan(m.logLoss()),
            m == null ? null : nan(m.normalizedEntropy()), m == null ? null : nan(m.calibrationRatio()),
            nan(q.holdoutAuc()), q.status(), q.detail(), java.sql.Date.valueOf(date), now));
      }
      warehouse.overwriteDays(spark.createDataFrame(rows, QUALITY_SCHEMA), Table.MONITOR_QUALITY, from, date, null);
    }
    String page = MonitorPage.write(spark, warehouse, date);
    Result result = new Result(date, version, note, drift, quality, page);
    result.lines().forEach(LOG::info);
    return result;
  }

  /** The first day whose quality a run for {@code date} recomputes: the day that matured today (or today). */
  static LocalDate qualityFrom(Settings settings, LocalDate date) {
    return settings.delayedLabels() ? date.minusDays(1L + settings.labelsMatureAfterDays()) : date;
  }

  /** The model version that scored most of the day's events, if the day is scored. */
  static Optional<Long> scoringVersion(Warehouse warehouse, LocalDate date) {
    if (!warehouse.exists(Table.SCORES)) {
      return Optional.empty();
    }
    List<Row> rows = warehouse.day(Table.SCORES, date).groupBy("model_version").agg(count(lit(1)).as("n"))
        .orderBy(desc("n")).limit(1).collectAsList();
    return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0).getLong(0));
  }

  static List<DriftRow> drift(Warehouse warehouse, Settings settings, LocalDate date, long version,
      Drift.Baseline baseline, Map<String, Set<String>> vocabulary) {
    MonitorSettings m = settings.monitor();
    Dataset<Row> events = warehouse.day(Table.EVENTS, date);
    List<Drift.FeatureBaseline> features = baseline.features().stream()
        .filter(b -> !m.skipFeatures().contains(b.feature())).toList();
    Map<String, Map<String, Long>> counts = Drift.counts(events, features, vocabulary);
    Map<String, Double> means = new java.util.HashMap<>();
    List<String> numeric = features.stream().filter(b -> b.kind().equals("numeric"))
        .map(Drift.FeatureBaseline::feature).toList();
    if (!numeric.isEmpty()) {
      Row r = events.agg(org.apache.spark.sql.functions.avg(col(q(numeric.get(0)))), numeric.stream().skip(1)
          .map(c -> org.apache.spark.sql.functions.avg(col(q(c)))).toArray(org.apache.spark.sql.Column[]::new)).head();
      for (int i = 0; i < numeric.size(); i++) {
        means.put(numeric.get(i), r.isNullAt(i) ? Double.NaN : r.getDouble(i));
      }
    }
    List<DriftRow> out = new ArrayList<>();
    for (Drift.FeatureBaseline b : features) {
      out.add(row(b, counts.getOrDefault(b.feature(), Map.of()), means.getOrDefault(b.feature(), Double.NaN), m));
    }
    Drift.FeatureBaseline score = baseline.score();
    if (score != null && warehouse.exists(Table.SCORES)) {
      Dataset<Row> scores = warehouse.day(Table.SCORES, date).where(col("model_version").equalTo(version))
          .select(col("score").as(Drift.SCORE));
      Map<String, Long> c = Drift.counts(scores, List.of(score), Map.of()).getOrDefault(Drift.SCORE, Map.of());
      if (!c.isEmpty()) {
        Row mean = scores.agg(org.apache.spark.sql.functions.avg(Drift.SCORE)).head();
        out.add(row(score, c, mean.isNullAt(0) ? Double.NaN : mean.getDouble(0), m));
      }
    }
    return out;
  }

  private static DriftRow row(Drift.FeatureBaseline b, Map<String, Long> counts, double mean, MonitorSettings m) {
    Drift.Stability s = Drift.stability(b, counts, m.minBinRows());
    return new DriftRow(b.feature(), b.kind(), s, mean, b.mean(), b.share(Drift.NULL),
        b.kind().equals("categorical") ? b.share(Drift.UNSEEN) : Double.NaN,
        Drift.status(s.psi(), m.psiWarn(), m.psiAlert()));
  }

  /** Quality of every scored day from {@link #qualityFrom} to {@code date}, per model version and scorer. */
  static List<QualityRow> quality(Warehouse warehouse, Settings settings, LocalDate date, ModelStore store) {
    List<QualityRow> out = new ArrayList<>();
    if (!warehouse.exists(Table.SCORES)) {
      return out;
    }
    EventSchema schema = settings.schema();
    LocalDate from = qualityFrom(settings, date);
    Labels labels = Labels.asOf(warehouse, settings, date);
    org.apache.spark.sql.Column days = col("dt").geq(lit(java.sql.Date.valueOf(from)))
        .and(col("dt").leq(lit(java.sql.Date.valueOf(date))));
    Dataset<Row> labelled = labels.apply(warehouse.read(Table.EVENTS).where(days)
        .select(col("dt"), col(q(schema.id())), col(q(schema.label()))))
        .select(col("dt").as("_dt"), col(q(schema.id())).as("_id"), col(q(schema.label())).as("_label"));
    for (Table scorer : new Table[] {Table.SCORES, Table.SCORES_SHADOW}) {
      if (!warehouse.exists(scorer)) {
        continue;
      }
      warehouse.spark().sparkContext().setJobDescription("monitor " + date + ": realized quality of "
          + scorer.sqlName() + " " + from + " .. " + date);
      Dataset<Row> joined = warehouse.read(scorer).where(days).join(labelled, col("dt").equalTo(col("_dt"))
          .and(col(q(schema.id())).equalTo(col("_id"))), "left")
          .select(col("dt"), col("model_version"), col("score"), col("_label").as("label")).cache();
      try {
        for (Row g : joined.groupBy("dt", "model_version").agg(count(lit(1)), count(col("label")))
            .orderBy("dt", "model_version").collectAsList()) {
          LocalDate dt = g.getDate(0).toLocalDate();
          long version = g.getLong(1);
          long rows = g.getLong(2);
          long labelledRows = g.getLong(3);
          boolean mature = !settings.delayedLabels() || labels.isMature(dt);
          BinaryMetrics metrics = labelledRows == 0 ? null : BinaryMetrics.compute(joined
              .where(col("dt").equalTo(lit(g.getDate(0))).and(col("model_version").equalTo(version))
                  .and(col("label").isNotNull())), "label", "score");
          out.add(judge(dt, version, scorer.sqlName(), rows, labelledRows, mature, metrics,
              store.get(version).holdoutAuc(), settings.monitor()));
        }
      } finally {
        joined.unpersist();
      }
    }
    return out;
  }

  /**
   * The status of one day's realized quality: provisional until its labels are final, insufficient with too few
   * positives, else an alert when AUC fell by more than max-auc-drop below the model's holdout AUC, or the
   * calibration left its bounds, by more than {@code significance} standard errors of the day's estimate (AUC:
   * Hanley and McNeil's; calibration: log ratio, 1/sqrt(positives)); beyond the bounds within noise: warn.
   */
  static QualityRow judge(LocalDate dt, long version, String scorer, long rows, long labelled, boolean mature,
      BinaryMetrics m, double holdoutAuc, MonitorSettings s) {
    long positives = m == null ? 0 : m.positives();
    if (!mature) {
      return new QualityRow(dt, version, scorer, rows, labelled, positives, false, m, holdoutAuc, "provisional",
          "labels still arriving");
    }
    if (m == null || positives < s.minPositives() || positives == m.rows()) {
      return new QualityRow(dt, version, scorer, rows, labelled, positives, true, m, holdoutAuc, "insufficient",
          positives + " positives, fewer than nightscore.monitor.min-positives = " + s.minPositives());
    }
    List<String> alerts = new ArrayList<>();
    List<String> warns = new ArrayList<>();
    double drop = holdoutAuc - m.auc();
    double se = aucStandardError(m.auc(), positives, m.rows() - positives);
    if (drop > s.maxAucDrop()) {
      String what = String.format(Locale.ROOT, "AUC %.4f is %.4f below the holdout's %.4f (standard error %.4f)",
          m.auc(), drop, holdoutAuc, se);
      (drop > s.significance() * se ? alerts : warns).add(what);
    }
    double cal = m.calibrationRatio();
    if (cal < s.minCalibration() || cal > s.maxCalibration()) {
      double z = Math.abs(Math.log(cal)) * Math.sqrt(positives);
      String what = String.format(Locale.ROOT, "calibration %.3f is outside [%.2f, %.2f] (%.1f standard errors from 1)",
          cal, s.minCalibration(), s.maxCalibration(), z);
      (z > s.significance() ? alerts : warns).add(what);
    }
    String status = !alerts.isEmpty() ? "alert" : !warns.isEmpty() ? "warn" : "ok";
    List<String> all = new ArrayList<>(alerts);
    all.addAll(warns);
    return new QualityRow(dt, version, scorer, rows, labelled, positives, true, m, holdoutAuc, status,
        all.isEmpty() ? null : String.join("; ", all));
  }

  /** Hanley and McNeil's standard error of an AUC from {@code p} positives and {@code n} negatives. */
  static double aucStandardError(double auc, long p, long n) {
    double q1 = auc / (2 - auc);
    double q2 = 2 * auc * auc / (1 + auc);
    double var = (auc * (1 - auc) + (p - 1) * (q1 - auc * auc) + (n - 1) * (q2 - auc * auc)) / ((double) p * n);
    return Math.sqrt(Math.max(var, 0));
  }

  private static Double nan(double v) {
    return Double.isNaN(v) ? null : v;
  }

  private static String q(String column) {
    return "`" + column.replace("`", "``") + "`";
  }
}
