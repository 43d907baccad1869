package io.nightscore.jobs;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.nightscore.common.BinaryMetrics;
import io.nightscore.common.Settings;
import io.nightscore.common.SqlSafety;
import io.nightscore.common.Table;
import io.nightscore.common.Warehouse;
import io.nightscore.jobs.generate.GenerateJob;
import io.nightscore.jobs.ingest.IngestJob;
import io.nightscore.jobs.retrain.RetrainJob;
import io.nightscore.jobs.score.ScoreJob;
import io.nightscore.jobs.sql.SqlJob;
import java.io.PrintStream;
import java.time.LocalDate;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import scala.collection.JavaConverters;

/** The whole nightly pipeline on generated data: generate, ingest every day, retrain, score, summarise. */
public final class DemoJob {

  public record Options(LocalDate startDate, int days, long rowsPerDay, long seed) {}

  private DemoJob() {}

  private static double seconds(long since) {
    return (System.nanoTime() - since) / 1e9;
  }

  public static void run(SparkSession spark, Settings settings, Options o, PrintStream out) {
    Warehouse warehouse = new Warehouse(spark, settings);
    String raw = warehouse.root() + "/raw";
    LocalDate last = o.startDate().plusDays(o.days() - 1);
    long t0 = System.nanoTime();

    out.printf(Locale.ROOT, "== generate %d days x %d rows from %s into %s%n", o.days(), o.rowsPerDay(),
        o.startDate(), raw);
    long t = System.nanoTime();
    GenerateJob.Result g = GenerateJob.run(spark, new GenerateJob.Options(o.startDate(), o.days(), o.rowsPerDay(),
        o.seed(), raw, "csv", 0.012, 0.001));
    out.printf(Locale.ROOT, "== generate: %d rows in %.1f s%n", g.rows(), seconds(t));
    long ingested = 0;
    t = System.nanoTime();
    for (int i = 0; i < o.days(); i++) {
      LocalDate d = o.startDate().plusDays(i);
      IngestJob.Result r = IngestJob.run(spark, settings,
          new IngestJob.Options(d, raw + "/events/dt=" + d, IngestJob.Format.CSV));
      ingested += r.rowsIn();
      out.printf(Locale.ROOT, "== ingest %s: rows_in=%d written=%d quarantined=%d %s%n", d, r.rowsIn(),
          r.rowsWritten(), r.rowsQuarantined(), r.reasons());
    }
    double ingestSeconds = seconds(t);
    t = System.nanoTime();
    RetrainJob.Result m = RetrainJob.run(spark, settings, new RetrainJob.Options(last));
    double retrainSeconds = seconds(t);
    out.printf(Locale.ROOT, "== retrain %s: model v%d, %d rounds, holdout %s AUC %.4f log loss %.5f "
            + "(mean score %.5f vs rate %.5f)%n", last, m.modelVersion(), m.rounds(), m.holdoutDate(),
        m.holdout().auc(), m.holdout().logLoss(), m.holdout().meanScore(), m.holdout().rate());
    t = System.nanoTime();
    ScoreJob.Result s = ScoreJob.run(spark, settings, new ScoreJob.Options(last));
    double scoreSeconds = seconds(t);
    out.printf(Locale.ROOT, "== score %s: %d rows with model v%d%n", last, s.rowsScored(), s.modelVersion());
    Dataset<Row> judged = warehouse.read(Table.SCORES).where(col("dt").equalTo(lit(java.sql.Date.valueOf(last))))
        .join(warehouse.read(Table.EVENTS).select(settings.schema().id(), "dt", settings.schema().label()),
            JavaConverters.asScalaBuffer(List.of(settings.schema().id(), "dt")).toSeq())
        .join(spark.read().parquet(raw + "/truth").withColumnRenamed("event_id", settings.schema().id()),
            JavaConverters.asScalaBuffer(List.of(settings.schema().id(), "dt")).toSeq());
    BinaryMetrics model = BinaryMetrics.compute(judged, settings.schema().label(), "score");
    BinaryMetrics bayes = BinaryMetrics.compute(judged, settings.schema().label(), "p_true");
    out.printf(Locale.ROOT, "== scored day %s against its labels: model AUC %.4f log loss %.5f calibration %.3f; "
            + "true probabilities (the Bayes limit) AUC %.4f log loss %.5f calibration %.3f%n", last, model.auc(),
        model.logLoss(), model.calibrationRatio(), bayes.auc(), bayes.logLoss(), bayes.calibrationRatio());
    out.printf(Locale.ROOT, "== throughput (this JVM, %s): ingest %.0f rows/s (%d rows, %.1f s); retrain %.0f "
            + "training rows/s (%d rows, %.1f s whole job, %.1f s in XGBoost); score %.0f rows/s (%d rows, %.1f s)%n",
        spark.sparkContext().master(), ingested / ingestSeconds, ingested, ingestSeconds,
        m.trainRows() / retrainSeconds, m.trainRows(), retrainSeconds, m.trainSeconds(),
        s.rowsScored() / scoreSeconds, s.rowsScored(), scoreSeconds);

    String db = settings.database();
    String label = settings.schema().label();
    String id = settings.schema().id();
    String day = SqlSafety.dateLiteral(last);
    String truth = SqlSafety.pathLiteral(raw + "/truth");
    String summary = String.join(";\n",
        "SELECT dt, count(*) AS events FROM " + db + ".events GROUP BY dt ORDER BY dt",
        "SELECT reason, count(*) AS rows FROM " + db + ".quarantine GROUP BY reason ORDER BY rows DESC",
        "SELECT version, train_start, train_end, holdout_date, events_version, num_rounds, "
            + "round(holdout_auc, 4) AS auc, round(holdout_logloss, 5) AS logloss FROM " + db + ".models",
        "SELECT s.dt, s.model_version, count(*) AS scored, round(avg(s.score), 5) AS mean_score, "
            + "round(avg(e." + label + "), 5) AS actual_rate, round(avg(t.p_true), 5) AS true_rate, "
            + "round(sum(s.score) / sum(t.p_true), 3) AS calibration_vs_truth "
            + "FROM " + db + ".scores s JOIN " + db + ".events e ON s." + id + " = e." + id + " AND s.dt = e.dt "
            + "LEFT JOIN parquet.`" + truth.substring(1, truth.length() - 1) + "` t ON t.event_id = s." + id
            + " AND t.dt = s.dt "
            + "WHERE s.dt = " + day + " GROUP BY s.dt, s.model_version");
    out.println("== summary");
    SqlJob.run(spark, new SqlJob.Options(summary, SqlJob.Format.TABLE, 100), out, System.err);
    out.printf(Locale.ROOT, "== demo finished in %.0f s; query the tables with: bin/nightscore sql \"SELECT ... FROM %s.scores\"%n",
        (System.nanoTime() - t0) / 1e9, db);
  }
}
