package io.nightscore.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.nightscore.testing.SparkTestBase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The model lifecycle through the command line: the gate promotes a better model and rejects a worse and a
 * shuffled-label one (PipelineIT: a miscalibrated one); rollback; shadow scoring; an old day scored by an archived version;
 * a tampered artifact refused before any write; the same events version and config give the same model.
 */
class LifecycleIT extends SparkTestBase {
  static final String[] DAYS = {"2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"};
  static final String SCORED = DAYS[3];
  static final String[] WEAK = {"--conf", "nightscore.xgboost.params.max_depth=1", "--conf",
      "nightscore.xgboost.num-round=4", "--conf", "nightscore.xgboost.early-stopping-rounds=0"};
  static String warehouse;

  @BeforeAll
  static void world() {
    warehouse = scratch.resolve("warehouse").toString();
    String raw = scratch.resolve("raw").toString();
    Cli.Run g = run("generate", "--start-date", DAYS[0], "--days", "4", "--rows-per-day", "8000", "--seed", "11",
        "--base-rate", "0.04", "--output", raw, "--dirty-rate", "0");
    assertEquals(0, g.code(), g.err());
    for (String d : DAYS) {
      Cli.Run r = run("ingest", "--date", d, "--input", raw + "/events/dt=" + d);
      assertEquals(0, r.code(), r.err());
    }
  }

  static Cli.Run run(String... args) {
    return Cli.run(spark, List.of(
        "--conf", "nightscore.warehouse=" + warehouse,
        "--conf", "nightscore.retrain.window-days=3",
        "--conf", "nightscore.xgboost.num-round=40",
        "--conf", "nightscore.xgboost.early-stopping-rounds=5",
        "--conf", "nightscore.features.min-category-count=5",
        // ~160 positives in the evaluation half: sum(score)/sum(label) is known to about +-8%.
        "--conf", "nightscore.gate.min-calibration-ratio=0.7",
        "--conf", "nightscore.gate.max-calibration-ratio=1.4"), args);
  }

  static Cli.Run ok(String... args) {
    Cli.Run r = run(args);
    assertEquals(0, r.code(), String.join(" ", args) + " failed: " + r.err());
    return r;
  }

  static Cli.Run retrain(String... extra) {
    String[] args = new String[extra.length + 3];
    System.arraycopy(extra, 0, args, 0, extra.length);
    args[extra.length] = "retrain";
    args[extra.length + 1] = "--date";
    args[extra.length + 2] = SCORED;
    return ok(args);
  }

  static Row decision(long version) {
    return spark.sql("SELECT * FROM nightscore.model_decisions WHERE model_version = " + version
        + " AND action = 'gate'").head();
  }

  static long champion() {
    return spark.sql("SELECT version FROM nightscore.model_aliases WHERE alias = 'champion'").head().getLong(0);
  }

  /**
   * One champion's life, step by step on one warehouse: each step needs the registry the previous ones left
   * (who is champion, which versions exist), so they are one test, in this order.
   */
  @Test
  void theChampionsLifecycle() throws Exception {
    firstModelIsPromotedOnAbsoluteBounds();
    betterModelIsPromotedAfterBothScoreTheSameRows();
    worseModelIsRejected();
    modelTrainedOnShuffledLabelsIsRejected();
    rollbackPutsThePreviousChampionBackAndIsRecorded();
    scoreUsesTheChampionAndShadowScoresTheNewestChallenger();
    anOldDayIsScoredWithAnArchivedVersionAndExplained();
    aTamperedArtifactIsRefusedBeforeAnyWrite();
    theSameEventsVersionAndConfigGiveTheSameModel();
    checkPassesForAFinishedDayAndNamesWhatAnUnfinishedOneBreaks();
    maintainCompactsTheDayAndKeepsTimeTravel();
    aBackfilledDayGetsTheModelThatQualifiesForIt();
  }

  private void firstModelIsPromotedOnAbsoluteBounds() {
    Cli.Run r = retrain(WEAK);
    assertThat(r.out()).contains("gate v1: promoted (champion none -> v1)");
    Row d = decision(1);
    assertThat(d.<scala.collection.Seq<String>>getAs("reasons").mkString("|"))
        .contains("first model").contains("pass: normalized entropy");
    assertEquals(1, champion());
  }

  private void betterModelIsPromotedAfterBothScoreTheSameRows() {
    Cli.Run r = retrain();
    assertThat(r.out()).contains("gate v2: promoted (champion v1 -> v2)");
    Row d = decision(2);
    assertThat(d.<Double>getAs("challenger_logloss")).as("measured on the same rows")
        .isLessThan(d.<Double>getAs("champion_logloss"));
    assertEquals(2, champion());
    Row gate = spark.sql("SELECT rows, log_loss FROM nightscore.model_metrics WHERE model_version = 1 "
        + "AND dataset = 'gate'").head();
    Row holdout = spark.sql("SELECT rows FROM nightscore.model_metrics WHERE model_version = 2 "
        + "AND dataset = 'holdout'").head();
    assertEquals(holdout.getLong(0), gate.getLong(0), "the champion was scored on the challenger's evaluation rows");
    assertEquals(d.<Double>getAs("champion_logloss"), gate.getDouble(1), 1e-12);
  }

  private void worseModelIsRejected() {
    Cli.Run r = retrain(WEAK);
    assertThat(r.out()).contains("gate v3: rejected (champion v2 -> v2)").contains("FAIL: log loss");
    assertEquals(2, champion(), "the champion stays");
  }

  private void modelTrainedOnShuffledLabelsIsRejected() {
    // Permute the labels of the training days (the holdout day keeps its true labels), retrain, then put the
    // events back with Delta RESTORE.
    String events = warehouse + "/tables/events";
    long before = spark.sql("DESCRIBE HISTORY delta.`" + events + "`").agg(functions.max("version")).head().getLong(0);
    Dataset<Row> train = spark.read().format("delta").load(events).where("dt IN (DATE'2026-11-01', DATE'2026-11-02')");
    Dataset<Row> labels = train.select("converted")
        .withColumn("_k", functions.row_number().over(Window.orderBy(functions.rand(3))));
    Dataset<Row> shuffled = train.drop("converted")
        .withColumn("_k", functions.row_number().over(Window.orderBy(functions.rand(5))))
        .join(labels, "_k").drop("_k").select(train.columns()[0], java.util.Arrays.copyOfRange(train.columns(), 1,
            train.columns().length));
    shuffled.localCheckpoint().write().format("delta").mode("overwrite")
        .option("replaceWhere", "dt IN (DATE'2026-11-01', DATE'2026-11-02')").save(events);
    try {
      Cli.Run r = retrain();
      assertThat(r.out()).contains("gate v4: rejected").contains("FAIL: AUC");
      Row d = decision(4);
      assertThat(d.<Double>getAs("challenger_auc")).as("nothing to learn").isLessThan(0.58);
    } finally {
      spark.sql("RESTORE TABLE delta.`" + events + "` TO VERSION AS OF " + before);
    }
    assertEquals(2, champion());
  }

  private void rollbackPutsThePreviousChampionBackAndIsRecorded() {
    Cli.Run r = ok("models", "rollback", "--reason", "v2 over-scores a publisher");
    assertThat(r.out()).contains("rollback v1: promoted (champion v2 -> v1)").contains("v2 over-scores a publisher");
    assertEquals(1, champion());
    Cli.Run list = ok("models", "list");
    assertThat(list.out()).containsPattern("\\| 1 +\\| champion").containsPattern("\\| 2 +\\| archived")
        .containsPattern("\\| 3 +\\| rejected").containsPattern("\\| 4 +\\| rejected");
    Row d = spark.sql("SELECT actor, note FROM nightscore.model_decisions WHERE action = 'rollback'").head();
    assertEquals(System.getProperty("user.name"), d.getString(0));
    ok("models", "promote", "2", "--reason", "publisher fixed upstream");
    assertEquals(2, champion());
    assertEquals(2, run("models", "rollback").code(), "--reason is required");
  }

  private void scoreUsesTheChampionAndShadowScoresTheNewestChallenger() {
    Cli.Run r = ok("score", "--date", SCORED, "--shadow");
    assertThat(r.out()).contains("model_version=2").contains("shadow_version=4");
    long rows = count("SELECT count(*) FROM nightscore.scores WHERE dt = DATE'" + SCORED + "'");
    assertEquals(rows, count("SELECT count(*) FROM nightscore.scores WHERE dt = DATE'" + SCORED
        + "' AND model_version = 2"), "every row carries the champion's version");
    assertEquals(rows, count("SELECT count(*) FROM nightscore.scores s JOIN nightscore.scores_shadow c "
        + "ON s.event_id = c.event_id AND s.dt = c.dt WHERE c.model_version = 4"),
        "champion and challenger scored the same rows");
  }

  private void anOldDayIsScoredWithAnArchivedVersionAndExplained() {
    Cli.Run r = ok("score", "--date", DAYS[0], "--model-version", "1");
    assertThat(r.out()).contains("model_version=1");
    assertEquals(0, count("SELECT count(*) FROM nightscore.scores WHERE dt = DATE'" + DAYS[0]
        + "' AND model_version <> 1"));
    Cli.Run e = ok("models", "explain", "--date", DAYS[0]);
    assertThat(e.out()).contains("by model v1").contains("model v1: trained")
        .contains("became champion:").contains("in the Delta history").contains("VERSION AS OF");
    Cli.Run show = ok("models", "show", "1", "--config");
    assertThat(show.out()).contains("model v1: archived").contains("booster.ubj").contains("config SHA-256")
        .contains("warehouse");
    assertEquals(2, run("score", "--date", DAYS[0], "--model-version", "99").code(), "unknown version: usage error");
  }

  private void aTamperedArtifactIsRefusedBeforeAnyWrite() throws Exception {
    String artifacts = spark.sql("SELECT artifact_path FROM nightscore.models WHERE version = 2").head().getString(0);
    Path booster = Path.of(java.net.URI.create(artifacts + "/booster.ubj"));
    byte[] original = Files.readAllBytes(booster);
    long scoresVersion = tableVersion("scores");
    byte[] tampered = original.clone();
    tampered[tampered.length / 2] ^= 1;
    Files.write(booster, tampered);
    Files.deleteIfExists(booster.resolveSibling(".booster.ubj.crc"));
    try {
      Cli.Run r = run("score", "--date", SCORED);
      assertEquals(1, r.code(), r.out());
      assertThat(r.err()).contains("model v2 artifact booster.ubj has SHA-256").contains("Nothing was written");
      assertEquals(scoresVersion, tableVersion("scores"), "no commit to scores");
    } finally {
      Files.write(booster, original);
    }
    ok("score", "--date", SCORED);
  }

  private void theSameEventsVersionAndConfigGiveTheSameModel() {
    // v2 was trained before the labels were shuffled and restored: time travel to the events version it read.
    long first = 2;
    long events = spark.sql("SELECT events_version FROM nightscore.models WHERE version = 2").head().getLong(0);
    assertThat(tableVersion("events")).as("the events table has moved on since").isGreaterThan(events);
    ok("retrain", "--date", SCORED, "--events-version", String.valueOf(events));
    long second = latestVersion();
    assertNotEquals(first, second);
    Map<String, Double> one = scores(first);
    Map<String, Double> two = scores(second);
    assertEquals(one.size(), two.size());
    double maxDiff = one.entrySet().stream().mapToDouble(e -> Math.abs(e.getValue() - two.get(e.getKey()))).max()
        .orElseThrow();
    assertEquals(0.0, maxDiff, "identical predictions for every event of " + SCORED);
    assertEquals(sha(first), sha(second), "the same booster, byte for byte");
  }

  private void checkPassesForAFinishedDayAndNamesWhatAnUnfinishedOneBreaks() {
    // A check_results table written before check_id existed (a day of it): the next check adds the column.
    String results = warehouse + "/tables/check_results";
    spark.sql("SELECT 'a champion model exists' AS invariant, 1L AS expected, 1L AS actual, true AS passed, "
        + "'champion v1' AS detail, current_timestamp() AS checked_at, DATE'2026-10-01' AS dt")
        .write().format("delta").partitionBy("dt").save(results);
    Cli.Run done = ok("check", "--date", SCORED);
    assertThat(done.out()).contains("ok   rows ingested + quarantined = raw rows (8000 + 0 vs 8000 raw)")
        .contains("ok   scored rows = ingested rows").contains("ok   a champion model exists")
        .contains("ok   no monitoring alert for the day").contains("check " + SCORED + ": passed");
    Cli.Run unscored = run("check", "--date", DAYS[1]);
    assertEquals(1, unscored.code(), unscored.out());
    assertThat(unscored.out()).contains("FAIL scored rows = ingested rows (0 scored vs 8000 ingested)");
    assertThat(unscored.err()).contains("breaks [scored rows = ingested rows");
    // Both days are in check_results by stable id; a rerun of a day replaces its rows.
    assertEquals(1, run("check", "--date", DAYS[1]).code());
    List<String> recorded = spark.read().format("delta").load(results).orderBy("dt", "check_id")
        .selectExpr("concat_ws(' ', dt, check_id, passed, expected, actual)").as(Encoders.STRING()).collectAsList();
    assertEquals(List.of("2026-10-01 true 1 1",
        DAYS[1] + " champion_exists true 1 1", DAYS[1] + " no_monitor_alert true 0 0",
        DAYS[1] + " raw_rows_accounted true 8000 8000", DAYS[1] + " scored_equals_ingested false 8000 0",
        DAYS[1] + " scores_valid true 0 0",
        SCORED + " champion_exists true 1 1", SCORED + " no_monitor_alert true 0 0",
        SCORED + " raw_rows_accounted true 8000 8000", SCORED + " scored_equals_ingested true 8000 8000",
        SCORED + " scores_valid true 0 0"), recorded);
  }

  private void maintainCompactsTheDayAndKeepsTimeTravel() {
    long files = filesOfDay(SCORED);
    long rowsAtZero = spark.read().format("delta").option("versionAsOf", 0).load(warehouse + "/tables/events").count();
    Cli.Run r = ok("maintain", "--date", SCORED);
    assertThat(r.out()).contains("table=events").contains("table=scores").contains("retention_hours=168");
    assertThat(files).as("the day was written in several files").isGreaterThan(1);
    assertEquals(1, filesOfDay(SCORED), "OPTIMIZE leaves one file for a small day");
    assertEquals(rowsAtZero, spark.read().format("delta").option("versionAsOf", 0).load(warehouse + "/tables/events")
        .count(), "VACUUM kept the history time travel needs");
    assertEquals(2, run("--conf", "nightscore.maintain.retention-hours=24", "maintain", "--date", SCORED).code(),
        "a retention below 7 days is refused");
  }

  private void aBackfilledDayGetsTheModelThatQualifiesForIt() {
    long newest = champion();
    String day = DAYS[2];
    Cli.Run none = run("score", "--date", day);
    assertEquals(1, none.code(), "every promoted model trained on " + day + ": " + none.err());
    assertThat(none.err()).contains("no promoted or approved model qualifies for " + day);

    // A retrain for the earlier day is judged against what qualifies for it, and does not replace the newer
    // champion: it is approved, and scores the day the champion trained on.
    Cli.Run backfill = ok("--conf", "nightscore.retrain.window-days=2", "retrain", "--date", day);
    long older = latestVersion();
    assertThat(backfill.out()).contains("approved v" + older + ": approved (champion v" + newest + " -> v" + newest
        + ")").contains("not made champion: the champion v" + newest + " trained on days up to " + DAYS[2]);
    assertEquals(newest, champion());
    assertThat(ok("models", "list").out()).containsPattern("\\|\\s*" + older + "\\s*\\|\\s*approved\\s*\\|");
    assertThat(ok("score", "--date", day).out()).contains("model_version=" + older);
    assertThat(ok("score", "--date", SCORED).out()).contains("model_version=" + newest);
  }

  private static long filesOfDay(String day) {
    return spark.read().format("delta").load(warehouse + "/tables/events").where("dt = DATE'" + day + "'")
        .select(functions.input_file_name()).distinct().count();
  }

  private static Map<String, Double> scores(long version) {
    ok("score", "--date", SCORED, "--model-version", String.valueOf(version));
    Map<String, Double> out = new HashMap<>();
    spark.sql("SELECT event_id, score FROM nightscore.scores WHERE dt = DATE'" + SCORED + "'").collectAsList()
        .forEach(r -> out.put(r.getString(0), r.getDouble(1)));
    return out;
  }

  private static String sha(long version) {
    return spark.sql("SELECT artifact_sha256['booster.ubj'] FROM nightscore.models WHERE version = " + version)
        .head().getString(0);
  }

  private static long latestVersion() {
    return count("SELECT max(version) FROM nightscore.models");
  }

  private static long tableVersion(String table) {
    return spark.sql("DESCRIBE HISTORY nightscore." + table).agg(functions.max("version")).head().getLong(0);
  }

  private static long count(String sql) {
    spark.catalog().refreshTable("nightscore.scores");
    return spark.sql(sql).head().getLong(0);
  }
}
