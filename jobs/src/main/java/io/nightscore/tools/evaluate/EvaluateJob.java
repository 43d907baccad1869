package io.nightscore.tools.evaluate;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.nightscore.common.config.Settings;
import io.nightscore.common.registry.MetricsTable;
import io.nightscore.common.registry.ModelStore;
import io.nightscore.common.table.Table;
import io.nightscore.common.table.Warehouse;
import io.nightscore.jobs.ingest.IngestJob;
import io.nightscore.jobs.retrain.ModelReport;
import io.nightscore.jobs.retrain.RetrainJob;
import io.nightscore.jobs.score.ScoreJob;
import io.nightscore.model.quality.BinaryMetrics;
import io.nightscore.tools.generate.GenerateJob;
import io.nightscore.tools.generate.World;
import java.io.PrintStream;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

/**
 * The quality proof on generated data: generate a world, ingest every day, retrain for the last day,
 * score it, and measure the scores against the labels and against the true probabilities (the Bayes
 * limit) — optionally beside the single-node Python XGBoost peer on the same rows. Every figure is
 * written to {@code model_metrics} and into the model's report.
 */
public final class EvaluateJob {

  /** What to generate and how to train; {@code python} null means no peer. */
  public record Options(LocalDate startDate, int days, long rowsPerDay, long seed, String world, double baseRate,
      RetrainJob.Recipe recipe, String python, String peerScript, boolean reuse) {}

  /** One scorer's figures on the scored day, with Σscore ÷ Σtrue probability. */
  public record Line(String scorer, BinaryMetrics metrics, double calibrationVsTruth) {}

  public record Result(LocalDate scoredDate, long ingestedRows, double ingestSeconds, RetrainJob.Result model,
      double retrainSeconds, ScoreJob.Result score, double scoreSeconds, List<Line> lines, String raw) {
    public Line line(String scorer) {
      return lines.stream().filter(l -> l.scorer().equals(scorer)).findFirst().orElseThrow();
    }
  }

  private EvaluateJob() {}

  private static double seconds(long since) {
    return (System.nanoTime() - since) / 1e9;
  }

  public static Result run(SparkSession spark, Settings settings, Options o, PrintStream out) {
    World world = World.named(o.world(), o.seed());
    if (!world.numeric().equals(settings.schema().numeric())
        || !world.categorical().equals(settings.schema().categorical())) {
      throw new IllegalArgumentException("--world " + o.world() + " writes features " + world.numeric() + " and "
          + world.categorical() + ", which nightscore.schema does not name"
          + (o.world().equals("criteo") ? "; add --config conf/criteo.conf" : "; drop the schema overlay"));
    }
    if (o.days() < settings.windowDays() + 1) {
      throw new IllegalArgumentException("--days must be at least window-days + 1 = " + (settings.windowDays() + 1)
          + " (a training window and the scored day), got " + o.days());
    }
    Warehouse warehouse = new Warehouse(spark, settings);
    String raw = warehouse.root() + "/raw";
    LocalDate last = o.startDate().plusDays(o.days() - 1);
    String id = settings.schema().id();
    String label = settings.schema().label();

    long ingested = 0;
    long t = System.nanoTime();
    if (o.reuse()) {
      if (!warehouse.exists(Table.EVENTS)) {
        throw new IllegalArgumentException("--reuse needs the events a previous evaluate ingested into "
            + warehouse.path(Table.EVENTS) + "; run once without --reuse");
      }
      out.printf(Locale.ROOT, "== reusing the generated world and ingested events in %s%n", warehouse.root());
    } else {
      out.printf(Locale.ROOT, "== generate %s world: %d days x %d rows from %s, base rate %.4f, into %s%n",
          o.world(), o.days(), o.rowsPerDay(), o.startDate(), o.baseRate(), raw);
      GenerateJob.Result g = GenerateJob.run(spark, new GenerateJob.Options(o.startDate(), o.days(),
          o.rowsPerDay(), o.seed(), raw, "csv", o.baseRate(), 0.001, o.world()));
      out.printf(Locale.ROOT, "== generate: %d rows in %.1f s%n", g.rows(), seconds(t));
      t = System.nanoTime();
    }
    for (int i = 0; i < (o.reuse() ? 0 : o.days()); i++) {
      LocalDate d = o.startDate().plusDays(i);
      IngestJob.Result r = IngestJob.run(spark, settings,
          new IngestJob.Options(d, raw + "/events/dt=" + d, IngestJob.Format.CSV));
      ingested += r.rowsIn();
      out.printf(Locale.ROOT, "== ingest %s: rows_in=%d written=%d quarantined=%d %s%n", d, r.rowsIn(),
          r.rowsWritten(), r.rowsQuarantined(), r.reasons());
    }
    double ingestSeconds = seconds(t);
    t = System.nanoTime();
    RetrainJob.Result m = RetrainJob.run(spark, settings, new RetrainJob.Options(last, o.recipe()));
    double retrainSeconds = seconds(t);
    out.printf(Locale.ROOT, "== retrain %s (%s recipe): model v%d, %d of %d training rows after sampling, %d rounds "
            + "(best %d) in %.1f s of XGBoost, calibration %s; holdout %s evaluation half AUC %.4f log loss %.5f NE %.4f "
            + "calibration %.3f%n", last, o.recipe().name().toLowerCase(Locale.ROOT), m.modelVersion(),
        m.sampledTrainRows(), m.trainRows(), m.rounds(), m.bestIteration(), m.trainSeconds(), m.calibration(),
        m.holdoutDate(), m.holdout().auc(), m.holdout().logLoss(), m.holdout().normalizedEntropy(),
        m.holdout().calibrationRatio());
    out.println("== gate: " + m.decision().describe());
    t = System.nanoTime();
    // The model just trained, whatever the gate decided: evaluate judges a recipe, not the champion.
    ScoreJob.Result s = ScoreJob.run(spark, settings, new ScoreJob.Options(last, m.modelVersion(), false));
    double scoreSeconds = seconds(t);
    out.printf(Locale.ROOT, "== score %s: %d rows with model v%d%n", last, s.rowsScored(), s.modelVersion());

    spark.sparkContext().setJobDescription("evaluate: judge " + last + " against labels and true probabilities");
    java.sql.Date day = java.sql.Date.valueOf(last);
    Dataset<Row> judged = warehouse.day(Table.SCORES, last).select(id, "score")
        .join(warehouse.day(Table.EVENTS, last).select(id, label), id)
        .join(spark.read().parquet(raw + "/truth").where(col("dt").equalTo(lit(day)))
            .withColumnRenamed("event_id", id).select(id, "p_true"), id);
    List<String> scorers = new ArrayList<>(List.of("model", "true_probability"));
    if (o.python() != null) {
      ModelStore store = new ModelStore(warehouse);
      Dataset<Row> peer = PythonPeer.run(spark, warehouse, settings, store.get(m.modelVersion()), last, o.python(),
          o.peerScript(), warehouse.root() + "/peer");
      judged = judged.join(peer.withColumnRenamed("p", "python_xgboost"), id);
      scorers.add("python_xgboost");
    }
    judged = judged.persist(StorageLevel.MEMORY_AND_DISK());
    List<Line> lines = new ArrayList<>();
    try {
      BinaryMetrics truth = BinaryMetrics.compute(judged, label, "p_true");
      for (String scorer : scorers) {
        BinaryMetrics bm = scorer.equals("true_probability") ? truth
            : BinaryMetrics.compute(judged, label, scorer.equals("model") ? "score" : scorer);
        lines.add(new Line(scorer, bm, bm.meanScore() / truth.meanScore()));
      }
    } finally {
      judged.unpersist();
    }
    MetricsTable.write(warehouse, lines.stream()
        .map(l -> new MetricsTable.Entry(m.modelVersion(), "scored", last, l.scorer(), l.metrics())).toList());
    ModelReport.write(spark, warehouse, new ModelStore(warehouse).get(m.modelVersion()));
    Result result = new Result(last, ingested, ingestSeconds, m, retrainSeconds, s, scoreSeconds, lines, raw);
    print(result, o, out);
    return result;
  }

  static void print(Result r, Options o, PrintStream out) {
    out.printf(Locale.ROOT, "== scored day %s (%d rows, %d conversions), %s world, %s recipe, model v%d%n",
        r.scoredDate(), r.line("model").metrics().rows(), r.line("model").metrics().positives(), o.world(),
        o.recipe().name().toLowerCase(Locale.ROOT), r.model().modelVersion());
    out.printf(Locale.ROOT, "%-17s %8s %8s %9s %8s %12s %13s %9s%n", "scorer", "AUC", "PR-AUC", "log loss", "NE",
        "Σscore/Σtrue", "Σscore/Σlabel", "ECE");
    for (Line l : r.lines()) {
      BinaryMetrics m = l.metrics();
      out.printf(Locale.ROOT, "%-17s %8.4f %8.4f %9.5f %8.4f %12.3f %13.3f %9.5f%n", l.scorer(), m.auc(), m.prAuc(),
          m.logLoss(), m.normalizedEntropy(), l.calibrationVsTruth(), m.calibrationRatio(), m.ece());
    }
    BinaryMetrics model = r.line("model").metrics();
    BinaryMetrics truth = r.line("true_probability").metrics();
    StringBuilder last = new StringBuilder(String.format(Locale.ROOT,
        "evaluate: world=%s recipe=%s model_version=%d auc=%.4f ne=%.4f calibration_vs_truth=%.3f auc_gap=%.4f "
            + "ne_gap=%.4f", o.world(), o.recipe().name().toLowerCase(Locale.ROOT), r.model().modelVersion(),
        model.auc(), model.normalizedEntropy(), r.line("model").calibrationVsTruth(), truth.auc() - model.auc(),
        model.normalizedEntropy() - truth.normalizedEntropy()));
    if (r.lines().stream().anyMatch(l -> l.scorer().equals("python_xgboost"))) {
      Line peer = r.line("python_xgboost");
      last.append(String.format(Locale.ROOT, " peer_auc=%.4f peer_ne=%.4f peer_calibration_vs_truth=%.3f",
          peer.metrics().auc(), peer.metrics().normalizedEntropy(), peer.calibrationVsTruth()));
    }
    out.println(last);
  }
}
