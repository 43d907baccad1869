package io.nightscore.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nightscore.testing.SparkTestBase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Drives the real command line (the same {@link Main#execute} spark-submit runs) through
 * generate -> ingest -> retrain -> score -> sql on a small generated world. The night is built once, before the
 * tests; each test reads it, and a test that writes (a re-ingest, a rescore) leaves the tables as they were.
 */
class PipelineIT extends SparkTestBase {
  static String warehouse;
  static String raw;

  static final String[] DAYS = {"2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"};

  static Cli.Run generated;
  static final java.util.Map<String, Cli.Run> INGESTED = new java.util.LinkedHashMap<>();
  static Cli.Run retrained;
  static Cli.Run scored;

  @BeforeAll
  static void night() {
    warehouse = scratch.resolve("warehouse").toString();
    raw = scratch.resolve("raw").toString();
    generated = run("generate", "--start-date", DAYS[0], "--days", "4", "--rows-per-day", "6000", "--seed", "7",
        "--output", raw, "--dirty-rate", "0.005");
    assertEquals(0, generated.code(), generated.err());
    for (String d : DAYS) {
      Cli.Run r = run("ingest", "--date", d, "--input", raw + "/events/dt=" + d);
      assertEquals(0, r.code(), r.err());
      INGESTED.put(d, r);
    }
    retrained = run("retrain", "--date", DAYS[3]);
    assertEquals(0, retrained.code(), retrained.err());
    scored = run("score", "--date", DAYS[3]);
    assertEquals(0, scored.code(), scored.err());
  }

  /** Runs one command line on the test warehouse with small-data settings. */
  static Cli.Run run(String... args) {
    return Cli.run(spark, List.of(
        "--conf", "nightscore.warehouse=" + warehouse,
        "--conf", "nightscore.retrain.window-days=3",
        "--conf", "nightscore.xgboost.num-round=30",
        "--conf", "nightscore.xgboost.early-stopping-rounds=5",
        "--conf", "nightscore.features.min-category-count=5",
        // About 36 positives in the evaluation half: sum(score)/sum(label) is only known to +-20% here.
        "--conf", "nightscore.gate.min-calibration-ratio=0.5",
        "--conf", "nightscore.gate.max-calibration-ratio=2.0"), args);
  }

  
  /** The events table version an ingest's result line names. */
  static long eventsVersion(Cli.Run ingest) {
    return Long.parseLong(ingest.out().replaceAll("(?s).*events_version=(\\d+).*", "$1"));
  }

  /** The model version a retrain's result line names. */
  static long version(Cli.Run retrain) {
    return Long.parseLong(retrain.out().replaceAll("(?s).*model_version=(\\d+).*", "$1"));
  }

  static long count(String sql) {
    return spark.sql(sql).head().getLong(0);
  }

  @Test
  void generateWritesRawEventsAndTruthPerDay() {
    assertThat(generated.out()).contains("generate: rows=24000 days=4");
    for (String d : DAYS) {
      assertTrue(Files.isDirectory(Path.of(raw, "events", "dt=" + d)), "raw day " + d);
      assertTrue(Files.isDirectory(Path.of(raw, "truth", "dt=" + d)), "truth day " + d);
    }
  }

  @Test
  void ingestEveryDayConservingRows() {
    for (String d : DAYS) {
      assertThat(INGESTED.get(d).out()).contains("ingest " + d + ": rows_in=6000");
    }
    long events = count("SELECT count(*) FROM nightscore.events");
    long quarantined = count("SELECT count(*) FROM nightscore.quarantine");
    assertEquals(24000, events + quarantined, "every raw row is in events or quarantine");
    assertThat(quarantined).as("the dirty rows are quarantined").isBetween(60L, 240L);
    assertEquals(0, count("SELECT count(*) FROM (SELECT event_id FROM nightscore.events GROUP BY dt, event_id "
        + "HAVING count(*) > 1)"), "no duplicate id within a day");
  }

  @Test
  void reingestReplacesTheDayExactly() {
    long before = count("SELECT count(*) FROM nightscore.events WHERE dt = DATE'2026-11-02'");
    long others = count("SELECT count(*) FROM nightscore.events WHERE dt <> DATE'2026-11-02'");
    long qBefore = count("SELECT count(*) FROM nightscore.quarantine WHERE dt = DATE'2026-11-02'");
    Cli.Run r = run("ingest", "--date", DAYS[1], "--input", raw + "/events/dt=" + DAYS[1]);
    assertEquals(0, r.code(), r.err());
    spark.catalog().refreshTable("nightscore.events");
    assertEquals(before, count("SELECT count(*) FROM nightscore.events WHERE dt = DATE'2026-11-02'"),
        "re-ingest leaves the same rows, no duplicates");
    assertEquals(others, count("SELECT count(*) FROM nightscore.events WHERE dt <> DATE'2026-11-02'"),
        "other days untouched");
    assertEquals(qBefore, count("SELECT count(*) FROM nightscore.quarantine WHERE dt = DATE'2026-11-02'"));
  }

  @Test
  void retrainRecordsAModelWithHoldoutMetricsAndLineage() throws Exception {
    assertThat(retrained.out()).contains("model_version=1").contains("holdout=2026-11-03")
        .contains("gate v1: promoted (champion none -> v1)");
    Row m = spark.sql("SELECT * FROM nightscore.models WHERE version = 1").head();
    assertEquals(java.sql.Date.valueOf("2026-11-01"), m.getAs("train_start"));
    assertEquals(java.sql.Date.valueOf("2026-11-02"), m.getAs("train_end"));
    assertThat(m.<Double>getAs("holdout_auc")).as("a model learns something").isGreaterThan(0.6);
    assertThat(m.<Double>getAs("holdout_logloss")).isBetween(0.01, 0.2);
    assertThat(m.<Long>getAs("events_version")).as("trained at the events version the last ingest wrote")
        .isEqualTo(eventsVersion(INGESTED.get(DAYS[3])));
    assertThat(m.<scala.collection.Map<String, String>>getAs("params").contains("scale_pos_weight")).isFalse();
    String path = m.getAs("artifact_path");
    assertTrue(Files.isRegularFile(Path.of(java.net.URI.create(path + "/booster.ubj"))), "native booster saved");
    int rounds = m.getAs("num_rounds");
    int best = m.getAs("best_iteration");
    assertThat(rounds).as("early stopping trained rounds past the best one").isGreaterThan(best + 1);
    assertEquals(best + 1, ml.dmlc.xgboost4j.java.XGBoost.loadModel(
        Path.of(java.net.URI.create(path + "/booster.ubj")).toString()).getNumBoostedRound(),
        "the saved booster is the one early stopping chose: rounds 0.." + best + " of " + rounds);
    double mean = m.getAs("holdout_mean_score");
    double rate = m.getAs("holdout_rate");
    assertThat(mean / rate).as("no scale_pos_weight: mean score near the rate").isBetween(0.6, 1.6);
  }

  @Test
  void scoreWritesOneProbabilityPerEventWithTheModelVersion() {
    assertThat(scored.out()).contains("score " + DAYS[3] + ": rows=");
    long events = count("SELECT count(*) FROM nightscore.events WHERE dt = DATE'2026-11-04'");
    assertEquals(events, count("SELECT count(*) FROM nightscore.scores WHERE dt = DATE'2026-11-04'"));
    assertEquals(0, count("SELECT count(*) FROM nightscore.scores WHERE score < 0 OR score > 1 OR isnan(score) "
        + "OR score IS NULL"));
    assertEquals(1, count("SELECT count(DISTINCT model_version) FROM nightscore.scores WHERE dt = DATE'2026-11-04'"),
        "one model scored the day");
    assertEquals(0, count("SELECT count(*) FROM nightscore.scores s LEFT ANTI JOIN nightscore.models m "
        + "ON s.model_version = m.version"), "every score names a registered model");
    // Every row names the events version it was scored from: one version, at or after the day's ingest.
    Row versions = spark.sql("SELECT min(events_version), max(events_version) FROM nightscore.scores "
        + "WHERE dt = DATE'2026-11-04'").head();
    assertEquals(versions.getLong(0), versions.getLong(1));
    long ingested = eventsVersion(INGESTED.get(DAYS[3]));
    assertThat(versions.getLong(0)).isGreaterThanOrEqualTo(ingested);
    assertEquals(events, count("SELECT count(*) FROM nightscore.scores s JOIN nightscore.events e "
        + "ON s.event_id = e.event_id AND s.dt = e.dt"), "every score belongs to an event of the day");
  }

  @Test
  void rescoreReplacesTheDay() {
    long before = count("SELECT count(*) FROM nightscore.scores");
    Cli.Run r = run("score", "--date", DAYS[3]);
    assertEquals(0, r.code(), r.err());
    spark.catalog().refreshTable("nightscore.scores");
    assertEquals(before, count("SELECT count(*) FROM nightscore.scores"), "no duplicates after a rerun");
  }

  @Test
  void sqlPrintsTablesCsvAndJson() {
    Cli.Run table = run("sql", "SELECT model_version, count(*) AS n FROM nightscore.scores GROUP BY model_version");
    assertEquals(0, table.code(), table.err());
    assertThat(table.out()).contains("| model_version | n").containsPattern("\\| \\d+ +\\| \\d+ +\\|");
    Cli.Run csv = run("sql", "--format", "csv", "SELECT 1 AS a, 'x,y' AS b");
    assertThat(csv.out()).isEqualTo("a,b\n1,\"x,y\"\n");
    Cli.Run json = run("sql", "--format", "json", "SELECT 1 AS a; SELECT 2 AS b");
    assertThat(json.out()).isEqualTo("{\"a\":1}\n{\"b\":2}\n");
  }

  @Test
  void sqlFileRunsEveryStatement() throws Exception {
    Path f = scratch.resolve("q.sql");
    Files.writeString(f, "-- counts; per table\nSELECT count(*) AS events FROM nightscore.events;\n"
        + "SELECT 'a;b' AS s;\n");
    Cli.Run r = run("sql", "-f", f.toString(), "--format", "csv");
    assertEquals(0, r.code(), r.err());
    assertThat(r.out()).contains("events\n").contains("s\na;b\n");
  }

  @Test
  void badArgumentsExitWithTwoAndAClearMessage() {
    Cli.Run badDate = run("score", "--date", "2026-02-30");
    assertEquals(2, badDate.code());
    assertThat(badDate.err()).contains("Invalid value for option '--date': must be a real date in the form "
        + "yyyy-MM-dd, got '2026-02-30'");

    Cli.Run injected = run("ingest", "--date", "2026-11-01' OR '1'='1", "--input", raw);
    assertEquals(2, injected.code());

    Cli.Run unknownKey = run("--conf", "nightscore.retrain.windw-days=3", "retrain", "--date", DAYS[3]);
    assertEquals(2, unknownKey.code());
    assertThat(unknownKey.err()).contains("'nightscore.retrain.windw-days'")
        .contains("did you mean 'nightscore.retrain.window-days'");

    Cli.Run badFormat = run("ingest", "--date", DAYS[0], "--input", raw, "--format", "xml");
    assertEquals(2, badFormat.code());
    assertThat(badFormat.err()).contains("Invalid value for option '--format'").contains("[CSV, JSON, PARQUET]")
        .contains("'xml'");
  }

  @Test
  void retrainRefusesAWindowWithMissingDaysUnlessMinDaysAllows() {
    Cli.Run r = run("--conf", "nightscore.retrain.window-days=5", "retrain", "--date", DAYS[3]);
    assertEquals(1, r.code(), r.err());
    assertThat(r.err()).contains("lacks events on [2026-10-30, 2026-10-31]").contains("3 of 5 days")
        .contains("nightscore.retrain.min-days");
    Cli.Run tooMany = run("--conf", "nightscore.retrain.min-days=9", "retrain", "--date", DAYS[3]);
    assertEquals(2, tooMany.code(), "min-days above window-days is a configuration error");
    assertThat(tooMany.err()).contains("nightscore.retrain.min-days must be");
  }

  @Test
  void retrainWithoutDataSaysWhatIsMissing() {
    Cli.Run r = run("retrain", "--date", "2027-01-10");
    assertEquals(1, r.code());
    assertThat(r.err()).contains("2027-01-07 .. 2027-01-08").contains("Ingest the missing days first");
  }

  @Test
  void cudaWithoutAGpuStopsBeforeXGBoostIsTouched() {
    org.junit.jupiter.api.Assumptions.assumeFalse(Files.exists(Path.of("/dev/nvidia0")),
        "this machine has a GPU: XGBoost would really train on it");
    // Without the preflight XGBoost aborts the whole JVM (exit 134), which would end this test run.
    Cli.Run r = run("--conf", "nightscore.xgboost.device=cuda", "retrain", "--date", DAYS[3]);
    assertEquals(1, r.code(), r.err());
    assertThat(r.err()).contains("'cuda'").contains("no NVIDIA GPU").contains("nightscore.xgboost.device=cpu");
    Cli.Run s = run("--conf", "nightscore.xgboost.device=cuda", "score", "--date", DAYS[3]);
    assertEquals(1, s.code(), s.err());
  }

  @Test
  void retrainPublishesMetricsCalibrationAndAReport() throws Exception {
    Row m = spark.sql("SELECT * FROM nightscore.models WHERE version = 1").head();
    assertEquals("default", m.<String>getAs("recipe"));
    assertEquals("platt", m.<String>getAs("calibration"), "the default calibration is recorded");
    assertEquals(2, m.<scala.collection.Seq<Double>>getAs("calibration_params").size());
    assertThat(m.<scala.collection.Seq<Double>>getAs("train_curve").size()).isEqualTo(m.<Integer>getAs("num_rounds"));
    assertThat(m.<scala.collection.Map<String, Double>>getAs("feature_gain").size()).isGreaterThan(5);

    Row h = spark.sql("SELECT * FROM nightscore.model_metrics WHERE model_version = 1 AND dataset = 'holdout'")
        .head();
    assertEquals(java.sql.Date.valueOf(DAYS[2]), h.getAs("dt"));
    assertEquals(m.<Long>getAs("holdout_rows"), h.<Long>getAs("rows"), "the models row quotes the evaluation half");
    assertThat(h.<Long>getAs("rows")).as("the evaluation half is about half the day").isBetween(2_500L, 3_500L);
    assertThat(h.<Double>getAs("normalized_entropy")).as("better than predicting the base rate").isLessThan(1.0);
    assertThat(h.<Double>getAs("calibration_ratio")).isBetween(0.6, 1.6);
    assertThat(h.<scala.collection.Seq<Row>>getAs("reliability").size()).isGreaterThan(2);

    Path report = Path.of(java.net.URI.create(m.<String>getAs("report_path")));
    String html = Files.readString(report);
    assertThat(html).contains("ROC curve").contains("Reliability").contains("Feature importance")
        .contains("Score distribution by label").contains("Log loss per boosting round");
    assertThat(html.split("data:image/png;base64,", -1)).as("five embedded plots").hasSize(6);

    Files.delete(report);
    Cli.Run r = run("report", "--model-version", "1");
    assertEquals(0, r.code(), r.err());
    assertTrue(Files.isRegularFile(report), "report rebuilds the file from the tables");
    assertEquals(2, run("report", "--model-version", "99").code(), "an unknown version is a usage error");
  }

  @Test
  void predecessorRecipeIsMiscalibratedWhereTheDefaultIsNot() {
    Cli.Run r = run("retrain", "--date", DAYS[3], "--recipe", "predecessor");
    assertEquals(0, r.code(), "a rejected model is a successful retrain: " + r.err());
    long v = version(r);
    assertThat(r.out()).containsPattern("gate v" + v + ": rejected \\(champion (v\\d+) -> \\1\\)")
        .contains("FAIL: calibration ratio");
    Row m = spark.sql("SELECT * FROM nightscore.models WHERE version = " + v).head();
    assertEquals("predecessor", m.<String>getAs("recipe"));
    assertEquals("none", m.<String>getAs("calibration"));
    assertThat(m.<scala.collection.Map<String, String>>getAs("params").contains("scale_pos_weight")).isTrue();
    double predecessor = spark.sql("SELECT calibration_ratio FROM nightscore.model_metrics "
        + "WHERE model_version = " + v + " AND dataset = 'holdout'").head().getDouble(0);
    assertThat(predecessor).as("scale_pos_weight inflates every probability").isGreaterThan(5.0);
    assertEquals(2, run("retrain", "--date", DAYS[3], "--recipe", "magic").code());
  }

  @Test
  void nativeCategoricalModeTrainsAndReportsImportance() {
    Cli.Run r = run("--conf", "nightscore.features.categorical-mode=native", "retrain", "--date", DAYS[3]);
    assertEquals(0, r.code(), r.err());
    Row m = spark.sql("SELECT feature_types, feature_gain FROM nightscore.models WHERE version = " + version(r))
        .head();
    assertThat(m.<scala.collection.Seq<String>>getAs(0).contains("c")).as("categoricals typed 'c'").isTrue();
    assertThat(m.<scala.collection.Map<String, Double>>getAs(1).size()).isGreaterThan(3);
  }

  @Test
  void gpuCheckPlacesTheJobsOnTheGpuButForTheAllowedFallbacks() throws Exception {
    Path explained = scratch.resolve("explain");
    // The input of ingest comes from what ingest recorded for the day; RAPIDS settings from the GPU overlay.
    Cli.Run r = run("gpu-check", "--date", DAYS[3], "--gpu-config", "../conf/gpu-cluster.conf",
        "--explain-out", explained.toString());
    assertEquals(0, r.code(), r.out() + r.err());
    assertThat(r.out()).contains("ingest   events rows").contains("retrain  training rows")
        .contains("score    model inputs").contains("unexpected fallbacks 0")
        .contains("CPU FileSourceScanExec").contains("allowed: Delta table scans")
        .doesNotContain("NOT ALLOWED");
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(ingest|retrain|score) (\\d+)/(\\d+)")
        .matcher(r.out().substring(r.out().lastIndexOf("gpu-check " + DAYS[3] + ":")));
    int jobs = 0;
    while (m.find()) {
      jobs++;
      assertThat(Double.parseDouble(m.group(2)) / Double.parseDouble(m.group(3))).as(m.group(1) + " on GPU")
          .isGreaterThan(0.5);
    }
    assertEquals(3, jobs, r.out());
    try (var files = Files.list(explained)) {
      assertThat(files.map(f -> f.getFileName().toString()).toList()).contains("01-ingest-raw-row-count.txt")
          .anySatisfy(f -> assertThat(f).contains("score-model-inputs"));
    }
  }
}
