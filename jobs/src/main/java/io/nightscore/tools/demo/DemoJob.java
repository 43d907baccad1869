package io.nightscore.tools.demo;

import io.nightscore.common.config.Settings;
import io.nightscore.common.sql.SqlSafety;
import io.nightscore.common.table.Warehouse;
import io.nightscore.jobs.monitor.MonitorJob;
import io.nightscore.jobs.retrain.RetrainJob;
import io.nightscore.jobs.sql.SqlJob;
import io.nightscore.tools.evaluate.EvaluateJob;
import java.io.PrintStream;
import java.time.LocalDate;
import java.util.Locale;
import org.apache.spark.sql.SparkSession;

/**
 * The whole nightly pipeline on generated data: generate, ingest every day, retrain, score, judge, summarise,
 * monitor the scored day.
 */
public final class DemoJob {

  public record Options(LocalDate startDate, int days, long rowsPerDay, long seed) {}

  private DemoJob() {}

  private static double seconds(long since) {
    return (System.nanoTime() - since) / 1e9;
  }

  public static void run(SparkSession spark, Settings settings, Options o, PrintStream out) {
    Warehouse warehouse = new Warehouse(spark, settings);
    long t0 = System.nanoTime();
    EvaluateJob.Result r = EvaluateJob.run(spark, settings, new EvaluateJob.Options(o.startDate(), o.days(),
        o.rowsPerDay(), o.seed(), "default", 0.012, RetrainJob.Recipe.DEFAULT, null, null, false), out);
    RetrainJob.Result m = r.model();
    out.printf(Locale.ROOT, "== throughput (this JVM, %s): ingest %.0f rows/s (%d rows, %.1f s); retrain %.0f "
            + "training rows/s (%d rows, %.1f s whole job, %.1f s in XGBoost); score %.0f rows/s (%d rows, %.1f s)%n",
        spark.sparkContext().master(), r.ingestedRows() / r.ingestSeconds(), r.ingestedRows(), r.ingestSeconds(),
        m.trainRows() / r.retrainSeconds(), m.trainRows(), r.retrainSeconds(), m.trainSeconds(),
        r.score().rowsScored() / r.scoreSeconds(), r.score().rowsScored(), r.scoreSeconds());
    LocalDate last = r.scoredDate();
    String raw = r.raw();

    String db = settings.database();
    String label = settings.schema().label();
    String id = settings.schema().id();
    String day = SqlSafety.dateLiteral(last);
    String truth = SqlSafety.pathLiteral(raw + "/truth");
    String summary = String.join(";\n",
        "SELECT dt, count(*) AS events FROM " + db + ".events GROUP BY dt ORDER BY dt",
        "SELECT reason, count(*) AS rows FROM " + db + ".quarantine GROUP BY reason ORDER BY rows DESC",
        "SELECT version, train_start, train_end, holdout_date, events_version, num_rounds, "
            + "round(holdout_auc, 4) AS auc, round(holdout_logloss, 5) AS logloss, calibration, report_path FROM "
            + db + ".models",
        "SELECT s.dt, s.model_version, count(*) AS scored, round(avg(s.score), 5) AS mean_score, "
            + "round(avg(e." + label + "), 5) AS actual_rate, round(avg(t.p_true), 5) AS true_rate, "
            + "round(sum(s.score) / sum(t.p_true), 3) AS calibration_vs_truth "
            + "FROM " + db + ".scores s JOIN " + db + ".events e ON s." + id + " = e." + id + " AND s.dt = e.dt "
            + "LEFT JOIN parquet.`" + truth.substring(1, truth.length() - 1) + "` t ON t.event_id = s." + id
            + " AND t.dt = s.dt "
            + "WHERE s.dt = " + day + " GROUP BY s.dt, s.model_version");
    out.println("== summary");
    SqlJob.run(spark, new SqlJob.Options(summary, SqlJob.Format.TABLE, 100), out, System.err);
    out.println("== monitoring of " + last);
    MonitorJob.run(spark, settings, last).lines().forEach(out::println);
    out.printf(Locale.ROOT, "== demo finished in %.0f s; query the tables with: bin/nightscore sql \"SELECT ... FROM %s.scores\"%n",
        (System.nanoTime() - t0) / 1e9, db);
  }
}
