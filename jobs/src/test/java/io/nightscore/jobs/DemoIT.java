package io.nightscore.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nightscore.testing.SparkTestBase;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The README's first command, {@code demo}, through the real command line at a small size (3 days of 2,000
 * rows instead of 9 of 50,000): generate, ingest, retrain (with the gate), score, judge, SQL summary.
 * DriverKillIT and ClusterIT prove the launcher itself; this proves the command.
 */
class DemoIT extends SparkTestBase {

  @Test
  void demoRunsEveryStepAndSummarises() {
    Cli.Run r = Cli.run(spark, List.of("--conf", "nightscore.warehouse=" + scratch.resolve("wh"),
        "--conf", "nightscore.retrain.window-days=2", "--conf", "nightscore.xgboost.num-round=10",
        "--conf", "nightscore.features.min-category-count=5"), "demo", "--rows-per-day", "2000");
    assertEquals(0, r.code(), r.err());
    assertThat(r.out()).contains("== gate: ").contains("== score 2026-11-03: ").contains("== demo finished in")
        .containsPattern("\\| 2026-11-03 \\| 1 +\\| [0-9]+ ")
        // A clean day of 2,000 rows raises no drift alarm, and its inline labels give the realized quality at once.
        .contains("monitor 2026-11-03: drift model_version=1 ").contains(" alerts=[] warnings=[]")
        .containsPattern("quality dt=2026-11-03 model_version=1 scorer=\\w+ labelled_rows=[0-9]+ .* mature=true")
        .contains("monitoring/index.html");
  }
}
