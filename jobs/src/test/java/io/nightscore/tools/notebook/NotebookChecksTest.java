package io.nightscore.tools.notebook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nightscore.common.config.Settings;
import io.nightscore.jobs.sql.SqlJob;
import io.nightscore.testing.SparkTestBase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The notebooks' check cells ({@code -- check: empty}) against a small warehouse made of views: none returns a row
 * while the warehouse is healthy, and each returns rows once its own invariant is broken, so a check cannot pass
 * because there was nothing to look at.
 */
class NotebookChecksTest extends SparkTestBase {
  private static final String DB = "nbchecks";
  private static final String DAY = "2026-11-09";

  /** The healthy warehouse: one day of three events, one quarantined row, all scored, one champion. */
  private static Map<String, String> healthy() {
    Map<String, String> views = new LinkedHashMap<>();
    views.put("events", "SELECT * FROM VALUES ('e1', DATE'" + DAY + "'), ('e2', DATE'" + DAY + "'), "
        + "('e3', DATE'" + DAY + "') AS t(event_id, dt)");
    views.put("quarantine", "SELECT * FROM VALUES (DATE'" + DAY + "', 'BAD_TIME') AS t(dt, reason)");
    views.put("scores", "SELECT * FROM VALUES ('e1', 0.1D, 1L, DATE'" + DAY + "'), ('e2', 0.2D, 1L, DATE'" + DAY
        + "'), ('e3', 0.3D, 1L, DATE'" + DAY + "') AS t(event_id, score, model_version, dt)");
    views.put("check_results", "SELECT * FROM VALUES ('raw_rows_accounted', 'rows ingested + quarantined = raw rows', "
        + "4L, 4L, true, DATE'" + DAY + "') AS t(check_id, invariant, expected, actual, passed, dt)");
    views.put("models", "SELECT * FROM VALUES (1L), (2L) AS t(version)");
    views.put("model_decisions", "SELECT * FROM VALUES ('d1', TIMESTAMP'2026-11-08 01:00:00', 1L), "
        + "('d2', TIMESTAMP'2026-11-09 01:00:00', 2L) AS t(decision_id, decided_at, model_version)");
    views.put("model_status", "SELECT * FROM VALUES (1L, 'champion', 'd2'), (2L, 'rejected', 'd2') "
        + "AS t(model_version, status, derived_from_decision)");
    views.put("model_aliases", "SELECT * FROM VALUES ('champion', 1L) AS t(alias, version)");
    return views;
  }

  @BeforeEach
  void database() {
    spark.sql("CREATE DATABASE IF NOT EXISTS " + DB);
    healthy().forEach(this::view);
  }

  private void view(String name, String sql) {
    spark.sql("CREATE OR REPLACE VIEW " + DB + "." + name + " AS " + sql);
  }

  /** The check cells of a notebook, by the number Databricks shows, with the parameters substituted. */
  private static Map<Integer, String> checks(String file) throws Exception {
    Path path = NotebookTest.EXPORTS.resolve(file);
    Notebook nb = Notebook.parse(file, Files.readString(path));
    Map<String, String> values = NotebookRunner.values(nb, Settings.defaults(Map.of("nightscore.database", DB)),
        Map.of("run_date", DAY));
    Map<Integer, String> out = new LinkedHashMap<>();
    nb.cells().stream().filter(c -> "empty".equals(c.check()))
        .forEach(c -> out.put(c.number(), NotebookRunner.substitute(c.text(), values)));
    return out;
  }

  /** The numbers of the check cells that return rows on the warehouse as it is now. */
  private static List<Integer> failing(Map<Integer, String> checks) {
    return checks.entrySet().stream().filter(e -> {
      Dataset<Row> last = null;
      for (String statement : SqlJob.split(e.getValue())) {
        last = spark.sql(statement);
      }
      return last != null && !last.isEmpty();
    }).map(Map.Entry::getKey).toList();
  }

  @Test
  void eachOverviewCheckFailsOnItsOwnBreakageOnly() throws Exception {
    Map<Integer, String> checks = checks("01_nightly_overview.sql");
    List<Integer> cells = List.copyOf(checks.keySet());
    assertThat(cells).as("the overview's five check cells").hasSize(5);
    assertEquals(List.of(), failing(checks), "a healthy warehouse");

    // An event left unscored: scored <> ingested for the day, and the day's one-to-one match breaks.
    view("scores", "SELECT * FROM VALUES ('e1', 0.1D, 1L, DATE'" + DAY + "'), ('e2', 0.2D, 1L, DATE'" + DAY
        + "') AS t(event_id, score, model_version, dt)");
    assertEquals(List.of(cells.get(0), cells.get(1)), failing(checks));
    // A score for another event than the day's (counts still match): only the one-to-one check sees it.
    view("scores", "SELECT * FROM VALUES ('e1', 0.1D, 1L, DATE'" + DAY + "'), ('e2', 0.2D, 1L, DATE'" + DAY
        + "'), ('x9', 0.3D, 1L, DATE'" + DAY + "') AS t(event_id, score, model_version, dt)");
    assertEquals(List.of(cells.get(1)), failing(checks));
    // An event scored twice, another not at all: the duplicate check (and the one-to-one check for e3).
    view("scores", "SELECT * FROM VALUES ('e1', 0.1D, 1L, DATE'" + DAY + "'), ('e2', 0.2D, 1L, DATE'" + DAY
        + "'), ('e2', 0.2D, 2L, DATE'" + DAY + "') AS t(event_id, score, model_version, dt)");
    assertEquals(List.of(cells.get(1), cells.get(2)), failing(checks));
    // A score outside [0, 1].
    view("scores", "SELECT * FROM VALUES ('e1', 0.1D, 1L, DATE'" + DAY + "'), ('e2', 1.5D, 1L, DATE'" + DAY
        + "'), ('e3', 0.3D, 1L, DATE'" + DAY + "') AS t(event_id, score, model_version, dt)");
    assertEquals(List.of(cells.get(3)), failing(checks));
    view("scores", healthy().get("scores"));
    // A raw row neither ingested nor quarantined.
    view("check_results", "SELECT * FROM VALUES ('raw_rows_accounted', 'rows ingested + quarantined = raw rows', "
        + "5L, 4L, false, DATE'" + DAY + "') AS t(check_id, invariant, expected, actual, passed, dt)");
    assertEquals(List.of(cells.get(4)), failing(checks));
    // The same broken day recorded before check_id existed (null there): the invariant's name still finds it.
    view("check_results", "SELECT * FROM VALUES (CAST(NULL AS STRING), 'rows ingested + quarantined = raw rows', "
        + "5L, 4L, false, DATE'" + DAY + "') AS t(check_id, invariant, expected, actual, passed, dt)");
    assertEquals(List.of(cells.get(4)), failing(checks));
  }

  @Test
  void eachRegistryCheckFailsOnItsOwnBreakageOnly() throws Exception {
    Map<Integer, String> checks = checks("02_model_registry.sql");
    List<Integer> cells = List.copyOf(checks.keySet());
    assertThat(cells).as("one champion; model_status current").hasSize(2);
    assertEquals(List.of(), failing(checks), "a healthy warehouse");

    view("model_status", "SELECT * FROM VALUES (1L, 'champion', 'd2'), (2L, 'champion', 'd2') "
        + "AS t(model_version, status, derived_from_decision)");
    assertEquals(List.of(cells.get(0)), failing(checks), "two champions");
    view("model_aliases", "SELECT * FROM VALUES ('champion', 2L) AS t(alias, version)");
    view("model_status", healthy().get("model_status"));
    assertEquals(List.of(cells.get(0)), failing(checks), "the alias and model_status disagree");
    view("model_aliases", healthy().get("model_aliases"));

    view("model_decisions", "SELECT * FROM VALUES ('d1', TIMESTAMP'2026-11-08 01:00:00', 1L), "
        + "('d2', TIMESTAMP'2026-11-09 01:00:00', 2L), ('d3', TIMESTAMP'2026-11-09 02:00:00', 2L) "
        + "AS t(decision_id, decided_at, model_version)");
    assertEquals(List.of(cells.get(1)), failing(checks), "a decision after the last rewrite");
    view("model_decisions", healthy().get("model_decisions"));
    view("models", "SELECT * FROM VALUES (1L), (2L), (3L) AS t(version)");
    assertEquals(List.of(cells.get(1)), failing(checks), "a version model_status does not list");
  }
}
