package io.nightscore.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nightscore.testing.SparkTestBase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Labels that arrive later: a generated world whose events come unlabelled, with a conversions feed of positives
 * (attribution window 2 days) and drift injected on the last day, run through ingest, ingest-labels, retrain,
 * score, monitor and check on the real command line; the analysts' notebooks then run on the same warehouse.
 */
class DelayedLabelsIT extends SparkTestBase {
  static final String[] DAYS = {"2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06",
      "2026-11-07"};
  static final String LAST = DAYS[6];
  static final Set<String> DRIFTED = Set.of("latency_ms", "os", "browser");
  static String warehouse;
  static String raw;
  static Cli.Run retrained;
  static Cli.Run monitored;
  static Cli.Run monitoredClean;

  static Cli.Run run(String... args) {
    return Cli.run(spark, List.of("--conf", "nightscore.warehouse=" + warehouse,
        "--conf", "nightscore.labels.mature-after-days=2",
        "--conf", "nightscore.retrain.window-days=3",
        "--conf", "nightscore.xgboost.num-round=30",
        "--conf", "nightscore.xgboost.early-stopping-rounds=5",
        "--conf", "nightscore.features.min-category-count=5",
        // Two training days of 6000 events and ~30 positives in the evaluation half: the gate's bounds are loose
        // here so the first model is promoted (the gate is not what this test is about).
        "--conf", "nightscore.gate.min-calibration-ratio=0.3",
        "--conf", "nightscore.gate.max-calibration-ratio=3.0",
        "--conf", "nightscore.gate.max-normalized-entropy=1.05"), args);
  }

  static Cli.Run ok(String... args) {
    Cli.Run r = run(args);
    assertEquals(0, r.code(), String.join(" ", args) + "\n" + r.out() + r.err());
    return r;
  }

  @BeforeAll
  static void nights() {
    warehouse = scratch.resolve("warehouse").toString();
    raw = scratch.resolve("raw").toString();
    ok("generate", "--start-date", DAYS[0], "--days", "7", "--rows-per-day", "6000", "--seed", "11", "--output", raw,
        "--dirty-rate", "0.005", "--label-delay-days", "2", "--drift-from", LAST);
    for (String d : DAYS) {
      ok("ingest", "--date", d, "--input", raw + "/events/dt=" + d);
      if (Files.isDirectory(Path.of(raw, "labels", "dt=" + d))) {
        ok("ingest-labels", "--date", d, "--input", raw + "/labels/dt=" + d);
      }
    }
    retrained = ok("retrain", "--date", LAST);
    ok("score", "--date", DAYS[3], "--model-version", "1");
    ok("score", "--date", DAYS[5]);
    ok("score", "--date", LAST);
    monitoredClean = ok("monitor", "--date", DAYS[5]);
    monitored = ok("monitor", "--date", LAST);
    // A challenger (the same window trained again, rejected by a gate that asks for an AUC of 0.99) shadow-scores
    // the last day, so the notebooks meet every table; the champion's scores of the day stay what they were.
    assertThat(ok("--conf", "nightscore.gate.min-auc=0.99", "retrain", "--date", LAST).out()).contains("rejected");
    assertThat(ok("score", "--date", LAST, "--shadow").out()).contains("shadow_version=2");
  }

  @Test
  void unlabelledEventsAreIngestedAndScored() {
    assertEquals(0, spark.read().format("delta").load(warehouse + "/tables/events")
        .where("converted IS NOT NULL").count(), "every event came without its label");
    assertEquals(0, spark.read().format("delta").load(warehouse + "/tables/quarantine")
        .where("reason = 'MISSING_LABEL'").count());
    assertThat(spark.read().format("delta").load(warehouse + "/tables/quarantine")
        .where("reason = 'BAD_LABEL'").count()).as("a label that is there must still be 0 or 1").isPositive();
    assertEquals(Tables.ingested(spark, warehouse, LAST).stream().filter(s -> s.startsWith("event ")).count(),
        Tables.scores(spark, warehouse, LAST).size(), "every unlabelled event of the day scored");
  }

  @Test
  void retrainShiftsItsWindowToTheMatureDaysAndCountsMissingPositivesAsNegatives() {
    // D = 11-07, labels final 2 days after the event's day: the newest mature day is 11-04, the holdout.
    assertThat(retrained.out()).contains("train=2026-11-02..2026-11-03").contains("holdout=2026-11-04");
    long trainRows = Long.parseLong(retrained.out().replaceAll("(?s).*train_rows=(\\d+).*", "$1"));
    long events = spark.read().format("delta").load(warehouse + "/tables/events")
        .where("dt IN (DATE'2026-11-02', DATE'2026-11-03')").count();
    assertEquals(events, trainRows, "every event of a mature day trains: no positive label by maturity = negative");
    long positives = spark.read().format("delta").load(warehouse + "/tables/labels")
        .where("dt IN (DATE'2026-11-02', DATE'2026-11-03')").count();
    assertThat(positives).as("the feed's positives of the training days").isBetween(events / 200, events / 40);
    assertThat(spark.sql("SELECT params['labels_version'] FROM delta.`" + warehouse + "/tables/models`")
        .head().getString(0)).as("the labels version trained on, recorded").isNotNull();
  }

  @Test
  void ingestLabelsQuarantinesEveryBadRowWithItsReasonAndIsIdempotent() throws Exception {
    String day6 = DAYS[5];
    String day7 = LAST;
    Row known = spark.read().format("delta").load(warehouse + "/tables/events").where("dt = DATE'" + day7 + "'")
        .orderBy("event_id").select("event_id", "event_time").head();
    Row other = spark.read().format("delta").load(warehouse + "/tables/events").where("dt = DATE'" + day7 + "'")
        .orderBy(org.apache.spark.sql.functions.desc("event_id")).select("event_id", "event_time").head();
    Row arrived = spark.read().format("delta").load(warehouse + "/tables/labels").where("dt = DATE'" + day6 + "'")
        .select("event_id", "event_time").head();
    Row fifth = spark.read().format("delta").load(warehouse + "/tables/events").where("dt = DATE'2026-11-05'")
        .select("event_id", "event_time").head();
    String t7 = known.getTimestamp(1).toString().substring(0, 19);
    String lines = String.join("\n", List.of("event_id,event_time,converted,conversion_time",
        known.getString(0) + "," + t7 + ",1,x",                         // valid: the one row written
        known.getString(0) + "," + t7 + ",1,y",                         // DUPLICATE_LABEL (same file)
        other.getString(0) + "," + day7 + ",1,z",                       // CONFLICTING_LABEL (a date as its time)
        other.getString(0) + "," + day7 + ",0,z",                       // CONFLICTING_LABEL (both rows)
        arrived.getString(0) + "," + arrived.getTimestamp(1).toString().substring(0, 19) + ",1,", // DUPLICATE (earlier)
        "nope," + t7 + ",1,",                                           // UNKNOWN_EVENT
        known.getString(0) + ",2026-11-09 10:00:00,1,",                 // ARRIVED_BEFORE_EVENT
        fifth.getString(0) + "," + fifth.getTimestamp(1).toString().substring(0, 19) + ",1,", // LATE_LABEL
        "," + t7 + ",1,",                                               // MISSING_ID
        known.getString(0) + ",,1,",                                    // MISSING_TIME
        known.getString(0) + ",yesterday,1,",                           // BAD_TIME
        known.getString(0) + "," + t7 + ",,",                           // MISSING_LABEL
        known.getString(0) + "," + t7 + ",yes,",                        // BAD_LABEL
        known.getString(0) + "," + t7 + ",1,a,b,c"))                    // MALFORMED_ROW
        + "\n";
    Path file = Files.createDirectories(scratch.resolve("hostile-labels")).resolve("part-0.csv");
    Files.writeString(file, lines, StandardCharsets.UTF_8);
    // Arrival 11-08 comes after every day the other tests read; its one valid label is for an 11-07 event, which
    // no other test counts.
    Cli.Run first = ok("ingest-labels", "--date", "2026-11-08", "--input", file.toString());
    Cli.Run again = ok("ingest-labels", "--date", "2026-11-08", "--input", file.toString());
    assertThat(first.out()).contains("rows_in=14 written=1 quarantined=13");
    assertEquals(first.out().replaceAll("labels_version=\\d+", ""), again.out().replaceAll("labels_version=\\d+", ""),
        "the same file twice: the same result");
    Map<String, Long> reasons = new HashMap<>();
    for (Row r : spark.read().format("delta").load(warehouse + "/tables/label_quarantine")
        .where("arrived = DATE'2026-11-08'").groupBy("reason").count().collectAsList()) {
      reasons.put(r.getString(0), r.getLong(1));
    }
    assertEquals(Map.ofEntries(Map.entry("DUPLICATE_LABEL", 2L), Map.entry("CONFLICTING_LABEL", 2L),
        Map.entry("UNKNOWN_EVENT", 1L), Map.entry("ARRIVED_BEFORE_EVENT", 1L), Map.entry("LATE_LABEL", 1L),
        Map.entry("MISSING_ID", 1L), Map.entry("MISSING_TIME", 1L), Map.entry("BAD_TIME", 1L),
        Map.entry("MISSING_LABEL", 1L), Map.entry("BAD_LABEL", 1L), Map.entry("MALFORMED_ROW", 1L)), reasons);
    assertEquals(1, spark.read().format("delta").load(warehouse + "/tables/labels")
        .where("arrived = DATE'2026-11-08'").count(), "one valid row, written once");
    assertThat(spark.read().format("delta").load(warehouse + "/tables/labels").where("arrived = DATE'2026-11-08'")
        .head().getMap(5)).as("other columns kept").isNotNull();
  }

  @Test
  void monitorFlagsExactlyTheDriftedFeatures() {
    List<Row> flagged = spark.read().format("delta").load(warehouse + "/tables/monitor_drift")
        .where("dt = DATE'" + LAST + "' AND kind <> 'score' AND status <> 'ok'").select("feature", "status")
        .collectAsList();
    Set<String> features = new TreeSet<>();
    flagged.forEach(r -> features.add(r.getString(0)));
    assertEquals(new TreeSet<>(DRIFTED), features, "flagged: " + flagged);
    assertThat(flagged).allMatch(r -> r.getString(1).equals("alert"));
    assertEquals(0, spark.read().format("delta").load(warehouse + "/tables/monitor_drift")
        .where("dt = DATE'" + DAYS[5] + "' AND status <> 'ok'").count(), "the clean day flags nothing");
    assertThat(monitored.out()).contains("alerts=[browser, latency_ms, os]");
    assertThat(Path.of(warehouse, "monitoring", "index.html")).exists();
  }

  @Test
  void realizedQualityEqualsADirectComputation() {
    List<Row> q = spark.read().format("delta").load(warehouse + "/tables/monitor_quality")
        .where("dt = DATE'" + DAYS[3] + "' AND scorer = 'scores'").collectAsList();
    assertEquals(1, q.size());
    Row m = q.get(0);
    assertEquals(true, m.getAs("mature"));
    // Direct: every scored event of the mature day, label 1 when the feed has it, else 0.
    Set<String> positives = new java.util.HashSet<>();
    spark.read().format("delta").load(warehouse + "/tables/labels").where("dt = DATE'" + DAYS[3] + "'")
        .select("event_id").collectAsList().forEach(r -> positives.add(r.getString(0)));
    Map<String, Double> scores = Tables.scores(spark, warehouse, DAYS[3]);
    List<double[]> rows = new ArrayList<>();
    scores.forEach((id, s) -> rows.add(new double[] {s, positives.contains(id) ? 1 : 0}));
    double sumScore = rows.stream().mapToDouble(r -> r[0]).sum();
    double sumLabel = rows.stream().mapToDouble(r -> r[1]).sum();
    double logLoss = -rows.stream().mapToDouble(r -> r[1] == 1 ? Math.log(r[0]) : Math.log(1 - r[0])).sum()
        / rows.size();
    rows.sort(Comparator.comparingDouble(r -> r[0]));
    double rankSum = 0;
    for (int i = 0; i < rows.size(); ) { // mid-ranks for ties
      int j = i;
      while (j < rows.size() && rows.get(j)[0] == rows.get(i)[0]) {
        j++;
      }
      for (int k = i; k < j; k++) {
        if (rows.get(k)[1] == 1) {
          rankSum += (i + j + 1) / 2.0;
        }
      }
      i = j;
    }
    double auc = (rankSum - sumLabel * (sumLabel + 1) / 2) / (sumLabel * (rows.size() - sumLabel));
    assertEquals(rows.size(), (long) m.getAs("labelled_rows"));
    assertEquals((long) sumLabel, (long) m.getAs("positives"));
    assertEquals(auc, (double) m.getAs("auc"), 1e-4);
    assertEquals(logLoss, (double) m.getAs("log_loss"), 1e-6);
    assertEquals(sumScore / sumLabel, (double) m.getAs("calibration"), 1e-6);
    assertEquals(0, spark.read().format("delta").load(warehouse + "/tables/monitor_quality")
        .where("dt > DATE'" + DAYS[3] + "' AND (mature OR status <> 'provisional')").count(),
        "days whose labels still arrive are provisional");
  }

  @Test
  void checkFailsOnTheAlertsOfItsDayOnly() {
    Cli.Run last = run("check", "--date", LAST);
    assertEquals(1, last.code(), last.out());
    assertThat(last.err()).contains("no monitoring alert for the day").contains("drift of latency_ms")
        .contains("drift of os").contains("drift of browser");
    Cli.Run clean = run("check", "--date", DAYS[5]);
    assertEquals(0, clean.code(), clean.out() + clean.err());
  }

  /**
   * Every notebook of notebooks-export/ runs on this warehouse (several nights, labels that arrived later, drift,
   * monitoring, check results with one broken night): every cell succeeds, every check cell returns no rows, and
   * Jupyter's own tools accept the written notebook.
   */
  @Test
  void everyNotebookRunsOnSeveralNightsAndJupyterAcceptsIt() throws Exception {
    assertEquals(0, run("check", "--date", DAYS[5]).code());
    assertEquals(1, run("check", "--date", LAST).code(), "the drifted night breaks an invariant");
    Path out = scratch.resolve("notebooks");
    List<Path> notebooks;
    try (var files = Files.list(Path.of("..", "notebooks-export"))) {
      notebooks = files.filter(p -> p.toString().endsWith(".sql")).sorted().toList();
    }
    assertThat(notebooks).hasSizeGreaterThanOrEqualTo(5);
    for (Path nb : notebooks) {
      Cli.Run r = run("notebook", "run", nb.toString(), "--out", out.toString());
      assertEquals(0, r.code(), nb + "\n" + r.out() + r.err());
      String base = nb.getFileName().toString().replaceFirst("\\.sql$", "");
      Path ipynb = out.resolve(base + ".ipynb");
      assertThat(r.out()).contains(base + ".ipynb").contains(base + ".html")
          // The warehouse has every table the notebooks read: no cell is skipped.
          .contains("skipped []");
      assertThat(Files.readString(out.resolve(base + ".html"))).doesNotContain("class=err");
      jupyter(List.of("/usr/bin/python3", "-c", "import nbformat, sys; nbformat.validate(nbformat.read(sys.argv[1], "
          + "as_version=4)); print('valid')", ipynb.toString()));
      jupyter(List.of("jupyter", "nbconvert", "--to", "html", "--output-dir", out.resolve("nbconvert").toString(),
          ipynb.toString()));
      assertThat(out.resolve("nbconvert").resolve(base + ".html")).exists();
    }
    // The failed invariants' cell lists the drifted night's broken invariant, and not the clean night's.
    assertThat(Files.readString(out.resolve("01_nightly_overview.html"))).as("the broken night is listed")
        .contains("<td>" + LAST + "</td><td>no_monitor_alert</td><td>no monitoring alert for the day</td>")
        .doesNotContain("<td>" + DAYS[5] + "</td><td>no_monitor_alert</td>");
  }

  @Test
  void aFailingCellOrCheckStopsTheNotebookNamingTheCell() throws Exception {
    String head = "-- Databricks notebook source\n-- MAGIC %md\n-- MAGIC # t\n\n-- COMMAND ----------\n\n"
        + "-- param database: identifier\nCREATE WIDGET TEXT database DEFAULT 'nightscore';\n"
        + "\n-- COMMAND ----------\n\n";
    Path bad = scratch.resolve("bad.sql");
    Files.writeString(bad, head + "SELECT count(*) FROM ${database}.no_such_table\n");
    Cli.Run r = run("notebook", "run", bad.toString(), "--out", scratch.resolve("bad-out").toString());
    assertEquals(1, r.code(), r.out());
    assertThat(r.err()).contains("bad.sql, cell 3: ").contains("no_such_table");

    Path check = scratch.resolve("check.sql");
    Files.writeString(check, head + "-- check: empty\nSELECT dt, count(*) AS n FROM ${database}.events GROUP BY dt\n");
    r = run("notebook", "run", check.toString(), "--out", scratch.resolve("check-out").toString());
    assertEquals(1, r.code(), r.out());
    assertThat(r.err()).contains("check.sql, cell 3: a check cell returned 7 rows, expected none");
    assertThat(scratch.resolve("check-out").resolve("check.html")).exists();
  }

  /** Runs one of Jupyter's tools (Debian python3-nbformat, jupyter-nbconvert; .ci/run installs them). */
  private static void jupyter(List<String> command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), String.join(" ", command) + "\n" + output);
  }
}
