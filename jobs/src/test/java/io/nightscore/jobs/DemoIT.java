package io.nightscore.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nightscore.common.config.Settings;
import io.nightscore.testing.SparkTestBase;
import io.nightscore.tools.notebook.Notebook;
import io.nightscore.tools.notebook.NotebookRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * The README's first command, {@code demo}, through the real command line at a small size (3 days of 2,000
 * rows instead of 9 of 50,000): generate, ingest, retrain (with the gate), score, judge, SQL summary, monitor;
 * then the quality notebook on the demo's warehouse, whose SQL figures must be monitor's. DriverKillIT and
 * ClusterIT prove the launcher itself; this proves the command.
 */
class DemoIT extends SparkTestBase {

  static List<String> settings() {
    return List.of("--conf", "nightscore.warehouse=" + scratch.resolve("wh"),
        "--conf", "nightscore.retrain.window-days=2", "--conf", "nightscore.xgboost.num-round=10",
        "--conf", "nightscore.features.min-category-count=5");
  }

  @Test
  void demoRunsEveryStepAndSummarises() throws Exception {
    Cli.Run r = Cli.run(spark, settings(), "demo", "--rows-per-day", "2000");
    assertEquals(0, r.code(), r.err());
    assertThat(r.out()).contains("== gate: ").contains("== score 2026-11-03: ").contains("== demo finished in")
        .containsPattern("\\| 2026-11-03 \\| 1 +\\| [0-9]+ ")
        // A clean day of 2,000 rows raises no drift alarm, and its inline labels give the realized quality at once.
        .contains("monitor 2026-11-03: drift model_version=1 ").contains(" alerts=[] warnings=[]")
        .containsPattern("quality dt=2026-11-03 model_version=1 scorer=\\w+ labelled_rows=[0-9]+ .* mature=true")
        .contains("monitoring/index.html");

    // The quality notebook's own SQL (its AUC cell, run as notebook run runs it), on the demo's day with its
    // inline labels, gives what monitor recorded.
    Notebook nb = Notebook.parse("03_model_quality.sql",
        Files.readString(Path.of("..", "notebooks-export", "03_model_quality.sql")));
    Map<String, String> values = NotebookRunner.values(nb, Settings.defaults(Map.of()), Map.of());
    Notebook.Cell aucCell = nb.cells().stream().filter(c -> c.text().contains("positive_rank_sum")).findFirst()
        .orElseThrow();
    Row bySql = spark.sql(NotebookRunner.substitute(aucCell.text(), values)).where("dt = DATE'2026-11-03'").head();
    Row monitored = spark.read().format("delta").load(scratch.resolve("wh") + "/tables/monitor_quality")
        .where("dt = DATE'2026-11-03' AND scorer = 'scores'").head();
    assertEquals((long) monitored.getAs("labelled_rows"), (long) bySql.getAs("labelled_rows"));
    assertEquals((long) monitored.getAs("positives"), (long) bySql.getAs("positives"));
    assertEquals((double) monitored.getAs("auc"), (double) bySql.getAs("auc"), 0.6e-4, "AUC");
    assertEquals((double) monitored.getAs("log_loss"), (double) bySql.getAs("log_loss"), 0.6e-5, "log loss");
    assertEquals((double) monitored.getAs("calibration"), (double) bySql.getAs("calibration"), 0.6e-4,
        "calibration");
  }
}
