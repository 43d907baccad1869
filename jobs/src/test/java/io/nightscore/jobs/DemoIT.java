package io.nightscore.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nightscore.testing.SparkTestBase;
import java.nio.file.Path;
import java.util.HashMap;
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

    // The quality notebook's own SQL, on the demo's day with its inline labels, gives what monitor recorded.
    Path out = scratch.resolve("notebooks");
    Cli.Run nb = Cli.run(spark, settings(), "notebook", "run", "../notebooks-export/03_model_quality.sql",
        "--out", out.toString());
    assertEquals(0, nb.code(), nb.out() + nb.err());
    assertThat(nb.out()).contains("skipped []");
    Map<String, String> bySql = row(out.resolve("03_model_quality.ipynb"), "positive_rank_sum", "2026-11-03");
    Row monitored = spark.read().format("delta").load(scratch.resolve("wh") + "/tables/monitor_quality")
        .where("dt = DATE'2026-11-03' AND scorer = 'scores'").head();
    assertEquals(String.valueOf((long) monitored.getAs("labelled_rows")), bySql.get("labelled_rows"));
    assertEquals(String.valueOf((long) monitored.getAs("positives")), bySql.get("positives"));
    assertEquals((double) monitored.getAs("auc"), Double.parseDouble(bySql.get("auc")), 0.6e-4, "AUC");
    assertEquals((double) monitored.getAs("log_loss"), Double.parseDouble(bySql.get("log_loss")), 0.6e-5, "log loss");
    assertEquals((double) monitored.getAs("calibration"), Double.parseDouble(bySql.get("calibration")), 0.6e-4,
        "calibration");
  }

  /**
   * The row for {@code dt} of the result of the executed notebook's code cell whose SQL contains {@code marker},
   * read from the cell's text/plain output (tab-separated, header first).
   */
  static Map<String, String> row(Path ipynb, String marker, String dt) throws Exception {
    for (JsonNode cell : new ObjectMapper().readTree(ipynb.toFile()).get("cells")) {
      StringBuilder source = new StringBuilder();
      cell.path("source").forEach(l -> source.append(l.asText()));
      if (!source.toString().contains(marker)) {
        continue;
      }
      for (JsonNode o : cell.get("outputs")) {
        if (o.path("output_type").asText().equals("execute_result")) {
          String[] lines = o.get("data").get("text/plain").asText().split("\n");
          List<String> header = List.of(lines[0].split("\t", -1));
          for (String line : List.of(lines).subList(1, lines.length)) {
            List<String> values = List.of(line.split("\t", -1));
            if (values.get(header.indexOf("dt")).equals(dt)) {
              Map<String, String> out = new HashMap<>();
              for (int i = 0; i < header.size(); i++) {
                out.put(header.get(i), values.get(i));
              }
              return out;
            }
          }
        }
      }
    }
    throw new AssertionError("no result row for " + dt + " in the cell with " + marker + " of " + ipynb);
  }
}
