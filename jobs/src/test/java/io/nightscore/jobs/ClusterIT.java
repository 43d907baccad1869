package io.nightscore.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nightscore.testing.SparkTestBase;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The night on a Spark standalone cluster of two workers on 127.0.0.1 ({@code bin/cluster}), every command
 * through {@code bin/nightscore --master spark://...}: the shaded jar reaches the executors the normal way, XGBoost
 * trains with two workers in a barrier stage, and scores match local mode's.
 */
class ClusterIT extends SparkTestBase {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final String[] DAYS = {"2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"};
  // Ports apart from bin/cluster's defaults, so a developer's own cluster keeps running beside the test's.
  static final int PORT = 7177;
  static final int UI_PORT = 8190;
  static Path clusterDir;
  static String master;
  static String warehouse;
  static Path logs;

  /** Exit code and output of one launcher run. */
  record Run(int code, String out) {}

  static Map<String, String> env() {
    Map<String, String> env = new HashMap<>();
    env.put("NIGHTSCORE_CLUSTER_DIR", clusterDir.toString());
    env.put("NIGHTSCORE_MASTER_PORT", String.valueOf(PORT));
    env.put("NIGHTSCORE_MASTER_UI_PORT", String.valueOf(UI_PORT));
    env.put("NIGHTSCORE_WORKER_UI_PORT", String.valueOf(UI_PORT + 1));
    env.put("NIGHTSCORE_WORKER_PORT", String.valueOf(PORT + 1));
    env.put("NIGHTSCORE_REBUILD", "0");
    env.put("NIGHTSCORE_DRIVER_MEMORY", "1g");
    env.put("NIGHTSCORE_TMP", scratch.resolve("tmp").toString());
    return env;
  }

  static Run exec(String name, List<String> argv) throws IOException, InterruptedException {
    Path log = logs.resolve(name + ".log");
    ProcessBuilder pb = new ProcessBuilder(argv).directory(ROOT.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().putAll(env());
    Process p = pb.start();
    if (!p.waitFor(10, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError(name + " did not finish in 10 minutes; see " + log);
    }
    return new Run(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
  }

  /** The test's warehouse and small-data settings. */
  static List<String> settings() {
    return List.of("--conf", "nightscore.warehouse=" + warehouse, "--conf", "nightscore.retrain.window-days=3",
        "--conf", "nightscore.xgboost.num-round=30", "--conf", "nightscore.xgboost.early-stopping-rounds=5",
        "--conf", "nightscore.features.min-category-count=5",
        "--conf", "nightscore.gate.min-calibration-ratio=0.5", "--conf", "nightscore.gate.max-calibration-ratio=2.0");
  }

  /** {@code bin/nightscore --master} the test's cluster, with the test's settings: a driver JVM of its own. */
  static Run onCluster(String name, String... args) throws Exception {
    List<String> argv = new ArrayList<>(List.of(ROOT.resolve("bin/nightscore").toString(), "--master", master));
    argv.addAll(settings());
    argv.addAll(List.of(args));
    Run r = exec(name, argv);
    assertEquals(0, r.code(), name + " failed:\n" + r.out());
    return r;
  }

  /** The same command line in local mode, in this JVM (what the cluster's results are compared with). */
  static Cli.Run locally(String... args) {
    Cli.Run r = Cli.run(spark, settings(), args);
    assertEquals(0, r.code(), String.join(" ", args) + " failed: " + r.err());
    return r;
  }

  @BeforeAll
  static void cluster() throws Exception {
    clusterDir = scratch.resolve("cluster");
    logs = Files.createDirectories(scratch.resolve("logs"));
    warehouse = scratch.resolve("warehouse").toString();
    Run started = exec("cluster-start", List.of(ROOT.resolve("bin/cluster").toString(), "start", "--workers", "2",
        "--cores", "1", "--memory", "2g"));
    assertEquals(0, started.code(), started.out());
    java.util.regex.Matcher url = java.util.regex.Pattern.compile("spark://127\\.0\\.0\\.1:\\d+")
        .matcher(started.out());
    master = null;
    while (url.find()) {
      master = url.group();
    }
    assertEquals("spark://127.0.0.1:" + PORT, master, started.out());
  }

  @AfterAll
  static void stopCluster() throws Exception {
    if (clusterDir != null) {
      Run stopped = exec("cluster-stop", List.of(ROOT.resolve("bin/cluster").toString(), "stop"));
      assertEquals(0, stopped.code(), stopped.out());
      Run again = exec("cluster-stop-again", List.of(ROOT.resolve("bin/cluster").toString(), "stop"));
      assertThat(again.out()).as("stop is safe to call twice").contains("no cluster was running");
      try (Stream<Path> left = Files.list(clusterDir)) {
        assertThat(left.map(p -> p.getFileName().toString())).as("worker folders removed")
            .noneMatch(n -> n.startsWith("worker-"));
      }
    }
  }

  static String get(String url) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  static String masterJson() throws Exception {
    return get("http://127.0.0.1:" + UI_PORT + "/json/");
  }

  static Map<String, Double> scores(String day) {
    Map<String, Double> out = new HashMap<>();
    spark.read().format("delta").load(warehouse + "/tables/scores").where("dt = DATE'" + day + "'")
        .select("event_id", "score").collectAsList().forEach(r -> out.put(r.getString(0), r.getDouble(1)));
    return out;
  }

  static String boosterSha(long version) {
    return spark.read().format("delta").load(warehouse + "/tables/models").where("version = " + version)
        .selectExpr("artifact_sha256['booster.ubj']").head().getString(0);
  }

  @Test
  void theNightRunsOnTheClusterAndScoresAsLocalModeDoes() throws Exception {
    String raw = scratch.resolve("raw").toString();
    // The history before the night, in local mode; the night itself on the cluster.
    locally("generate", "--start-date", DAYS[0], "--days", "4", "--rows-per-day", "6000", "--seed", "7",
        "--output", raw, "--dirty-rate", "0.005");
    for (String d : List.of(DAYS[0], DAYS[1], DAYS[2])) {
      locally("ingest", "--date", d, "--input", raw + "/events/dt=" + d);
    }
    Run ingest = onCluster("ingest", "ingest", "--date", DAYS[3], "--input", raw + "/events/dt=" + DAYS[3]);
    assertThat(ingest.out()).contains("rows_in=6000");
    Run retrain = onCluster("retrain", "--conf", "nightscore.xgboost.num-workers=2", "retrain", "--date", DAYS[3]);
    assertThat(retrain.out()).contains("model_version=1");
    Run score = onCluster("score", "score", "--date", DAYS[3]);
    assertThat(score.out()).contains("model_version=1");
    assertThat(onCluster("check", "check", "--date", DAYS[3]).out()).contains("passed");
    onCluster("maintain", "maintain", "--date", DAYS[3]);

    // The work ran on the cluster: the master lists every command as a finished application.
    String json = masterJson();
    for (String app : List.of("nightscore ingest", "nightscore retrain", "nightscore score", "nightscore check",
        "nightscore maintain")) {
      assertThat(json).as("the master ran " + app).contains("\"name\" : \"" + app + "\"");
    }
    // Retrain's two XGBoost workers ran on two executors, one on each worker.
    String retrainApp = null;
    for (com.fasterxml.jackson.databind.JsonNode app : new com.fasterxml.jackson.databind.ObjectMapper().readTree(json)
        .get("completedapps")) {
      if (app.get("name").asText().equals("nightscore retrain")) {
        retrainApp = app.get("id").asText();
      }
    }
    assertThat(retrainApp).as("the master's finished retrain").startsWith("app-");
    for (int worker = 0; worker < 2; worker++) {
      assertThat(get("http://127.0.0.1:" + (UI_PORT + 1 + worker) + "/json/")).as("worker " + (worker + 1)
          + " ran an executor of " + retrainApp).contains("\"appid\" : \"" + retrainApp + "\"");
    }

    // The same model scores the same day to the same numbers in local mode.
    Map<String, Double> onCluster = scores(DAYS[3]);
    assertThat(onCluster).hasSizeGreaterThan(5000);
    locally("score", "--date", DAYS[3], "--model-version", "1");
    Map<String, Double> local = scores(DAYS[3]);
    assertEquals(onCluster.keySet(), local.keySet());
    double worst = onCluster.entrySet().stream().mapToDouble(e -> Math.abs(e.getValue() - local.get(e.getKey())))
        .max().orElseThrow();
    assertThat(worst).as("largest difference between cluster and local scores").isLessThanOrEqualTo(1e-6);

    // A retrain on the cluster is reproducible: same events version and settings, same booster.
    long eventsVersion = Long.parseLong(retrain.out().replaceAll("(?s).*events_version=(\\d+).*", "$1"));
    Run again = onCluster("retrain-again", "--conf", "nightscore.xgboost.num-workers=2", "retrain",
        "--date", DAYS[3], "--events-version", String.valueOf(eventsVersion));
    assertThat(again.out()).contains("model_version=2");
    assertEquals(boosterSha(1), boosterSha(2), "two retrains on the cluster, one booster");
  }
}
