package io.nightscore.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nightscore.jobs.Launcher.Run;
import io.nightscore.jobs.faults.ExecutorKiller;
import io.nightscore.testing.SparkTestBase;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
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
  static final String[] DAYS = {"2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"};
  // Ports apart from bin/cluster's defaults, so a developer's own cluster keeps running beside the test's.
  static final int PORT = 7177;
  static final int UI_PORT = 8190;
  static Path clusterDir;
  static String master;
  static String warehouse;
  static Path logs;

  static Map<String, String> env() {
    Map<String, String> env = new HashMap<>();
    env.put("NIGHTSCORE_CLUSTER_DIR", clusterDir.toString());
    env.put("NIGHTSCORE_MASTER_PORT", String.valueOf(PORT));
    env.put("NIGHTSCORE_MASTER_UI_PORT", String.valueOf(UI_PORT));
    env.put("NIGHTSCORE_WORKER_UI_PORT", String.valueOf(UI_PORT + 1));
    env.put("NIGHTSCORE_WORKER_PORT", String.valueOf(PORT + 1));
    env.put("NIGHTSCORE_DRIVER_MEMORY", "1g");
    env.put("NIGHTSCORE_TMP", scratch.resolve("tmp").toString());
    return env;
  }

  /** {@code bin/<script> args}, with the cluster's environment and {@code extraEnv}. */
  static Run exec(String name, String script, List<String> args, Map<String, String> extraEnv)
      throws IOException, InterruptedException {
    Map<String, String> all = env();
    all.putAll(extraEnv);
    return Launcher.run(logs.resolve(name + ".log"), all, script, args);
  }

  static Run cluster(String name, String... args) throws IOException, InterruptedException {
    return exec(name, "cluster", List.of(args), Map.of());
  }

  /** The test's warehouse and small-data settings. */
  static List<String> settings() {
    return settings(warehouse);
  }

  static List<String> settings(String wh) {
    return List.of("--conf", "nightscore.warehouse=" + wh, "--conf", "nightscore.retrain.window-days=3",
        "--conf", "nightscore.xgboost.num-round=30", "--conf", "nightscore.xgboost.early-stopping-rounds=5",
        "--conf", "nightscore.features.min-category-count=5",
        "--conf", "nightscore.gate.min-calibration-ratio=0.5", "--conf", "nightscore.gate.max-calibration-ratio=2.0");
  }

  /** {@code bin/nightscore --master} the test's cluster, with the test's settings: a driver JVM of its own. */
  static Run onCluster(String name, String... args) throws Exception {
    Run r = onCluster(name, Map.of(), args);
    assertEquals(0, r.code(), name + " failed:\n" + r.out());
    return r;
  }

  /** Like {@link #onCluster(String, String...)}, with launcher environment variables, whatever the exit code. */
  static Run onCluster(String name, Map<String, String> env, String... args) throws Exception {
    List<String> argv = new ArrayList<>(List.of("--master", master));
    argv.addAll(Launcher.EXECUTOR_OPTIONS);
    argv.addAll(settings());
    argv.addAll(List.of(args));
    return exec(name, "nightscore", argv, env);
  }

  /**
   * A driver that kills one of its executors with SIGKILL when the {@code atTask}th task of a stage whose name
   * contains {@code stage} starts, {@code delayMs} later ({@link ExecutorKiller}), with more Java options.
   * The launcher splits its Java options at spaces: {@code stage} is a regular expression without any.
   */
  static Map<String, String> killingAnExecutor(String stage, int atTask, long delayMs, String... javaOptions)
      throws IOException {
    String opts = "-Dspark.extraListeners=" + ExecutorKiller.class.getName() + " -D" + ExecutorKiller.STAGE + "="
        + stage + " -D" + ExecutorKiller.AT_TASK + "=" + atTask + " -D" + ExecutorKiller.DELAY + "=" + delayMs;
    return Map.of("NIGHTSCORE_JARS", killerJar().toString(),
        "NIGHTSCORE_JAVA_OPTS", opts + (javaOptions.length == 0 ? "" : " " + String.join(" ", javaOptions)));
  }

  /** The listener's classes, in a jar the driver loads with --jars (the shaded jar does not hold test code). */
  static Path killerJar() throws IOException {
    Path jar = scratch.resolve("executor-killer.jar");
    if (Files.exists(jar)) {
      return jar;
    }
    String dir = ExecutorKiller.class.getPackageName().replace('.', '/');
    Path classes;
    try {
      classes = Path.of(ExecutorKiller.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (java.net.URISyntaxException e) {
      throw new IOException(e);
    }
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
        Stream<Path> files = Files.list(classes.resolve(dir))) {
      for (Path f : files.filter(f -> f.getFileName().toString().startsWith("ExecutorKiller")).toList()) {
        out.putNextEntry(new JarEntry(dir + "/" + f.getFileName()));
        out.write(Files.readAllBytes(f));
        out.closeEntry();
      }
    }
    return jar;
  }

  /** The launcher's output shows that the listener killed an executor, and that the driver saw it go. */
  static void assertExecutorKilled(Run r) {
    assertThat(r.out()).as("an executor was killed").contains("executor-killer: killed executor")
        .contains("Lost executor");
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
    // Two cores per worker on a 2-core machine: room for two applications of two executors each.
    Run started = cluster("cluster-start", "start", "--workers", "2", "--cores", "2", "--memory", "2g");
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
      Run stopped = cluster("cluster-stop", "stop");
      assertEquals(0, stopped.code(), stopped.out());
      Run again = cluster("cluster-stop-again", "stop");
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

  /**
   * The Airflow DAG's ingest, retrain, score and check of {@code day} on the cluster, through airflow/run_local.py
   * with the test's settings; a failed task is retried 6 times, 30 s apart. Started, not waited for.
   */
  static Process dagRun(String day, String raw) throws IOException {
    Map<String, String> conf = new java.util.TreeMap<>();
    List<String> s = settings();
    for (int i = 1; i < s.size(); i += 2) {
      conf.put(s.get(i).substring(0, s.get(i).indexOf('=')), s.get(i).substring(s.get(i).indexOf('=') + 1));
    }
    conf.put("nightscore.xgboost.num-workers", "2");
    Path config = scratch.resolve("dag-" + day + ".json");
    new com.fasterxml.jackson.databind.ObjectMapper().writeValue(config.toFile(), Map.of(
        "jar", "(bin/nightscore runs its own)", "raw_path", raw + "/events/dt={ds}", "raw_format", "csv",
        "nightscore_conf", conf, "spark_conf", Map.of(Launcher.EXECUTOR_OPTIONS.get(1).split("=", 2)[0],
            Launcher.EXECUTOR_OPTIONS.get(1).split("=", 2)[1])));
    Map<String, String> env = env();
    env.put("NIGHTSCORE_MASTER", master);
    env.put("NIGHTSCORE_REBUILD", "0");
    return Launcher.command(logs.resolve("dag-" + day + ".log"), env, List.of("python3",
        Launcher.ROOT.resolve("airflow/run_local.py").toString(), "--config", config.toString(), "--date", day,
        "--tasks", "wait_for_raw,ingest,retrain,score,check", "--retries", "6", "--retry-delay", "30",
        "--logs", logs.resolve("dag-" + day).toString()));
  }

  /** One command of a night: its final run and how many attempts it took (failed attempts are retried). */
  record Step(String name, Run run, int attempts) {}

  /**
   * A night's commands in order, each retried like the DAG's tasks (up to 4 attempts, 10 s apart) until it
   * succeeds; stops at a command that never does.
   */
  static List<Step> night(String day, List<String[]> commands, List<Map<String, String>> envs) throws Exception {
    List<Step> steps = new ArrayList<>();
    for (int i = 0; i < commands.size(); i++) {
      String[] args = commands.get(i);
      String name = day + "-" + args[java.util.Arrays.asList(args).indexOf("--date") - 1];
      Run r = null;
      int attempt = 0;
      while (attempt < 4 && (r == null || r.code() != 0)) {
        if (attempt++ > 0) {
          Thread.sleep(10_000);
        }
        r = onCluster(name + "-" + attempt, envs.get(i), args);
      }
      steps.add(new Step(name, r, attempt));
      if (r.code() != 0) {
        break;
      }
    }
    return steps;
  }

  static Step step(List<Step> night, String command) {
    return night.stream().filter(s -> s.name().endsWith("-" + command)).findFirst()
        .orElseThrow(() -> new AssertionError(command + " did not run: " + night));
  }

  static long modelVersion(Run r) {
    return Long.parseLong(r.out().replaceAll("(?s).*model_version=(\\d+).*", "$1"));
  }

  @Test
  void twoNightsAtOnceSurviveLostExecutorsAndScoreAsLocalModeDoes() throws Exception {
    String raw = scratch.resolve("raw").toString();
    // The history before the nights, in local mode; the nights themselves on the cluster.
    locally("generate", "--start-date", DAYS[0], "--days", "5", "--rows-per-day", "6000", "--seed", "7",
        "--output", raw, "--dirty-rate", "0.005");
    for (String d : List.of(DAYS[0], DAYS[1], DAYS[2])) {
      locally("ingest", "--date", d, "--input", raw + "/events/dt=" + d);
    }
    String tonight = DAYS[3];
    String next = DAYS[4];
    Map<String, String> none = Map.of();
    // Tonight's ingest and score each lose an executor as their first write starts; Spark reruns the lost tasks.
    Map<String, String> losingOne = killingAnExecutor("save.at.Warehouse", 1, 0);
    String[] retrain = {"--conf", "nightscore.xgboost.num-workers=2", "retrain", "--date", null};
    // Two drivers at once, out of order: the next day's night starts first, run by the Airflow DAG's commands
    // without Airflow (airflow/run_local.py: the plan's command lines through bin/nightscore, a failed task
    // retried); its retrain, whose window ends with tonight's day, is refused if it runs before tonight's ingest
    // wrote that day, and retried. Whichever retrain finishes first, both days get a model that qualifies.
    Process later = dagRun(next, raw);
    Thread.sleep(5_000);
    List<Step> nightOne = night(tonight, List.of(
        new String[] {"ingest", "--date", tonight, "--input", raw + "/events/dt=" + tonight},
        with(retrain, tonight), new String[] {"score", "--date", tonight}, new String[] {"check", "--date", tonight},
        new String[] {"maintain", "--date", tonight}), List.of(losingOne, none, losingOne, none, none));
    Run nightTwo = Launcher.finish(later, logs.resolve("dag-" + next + ".log"));
    for (Step st : nightOne) {
      System.out.printf(java.util.Locale.ROOT, "two nights at once: %s %-8s exit %d after %d attempt(s)%n", tonight,
          st.name().substring(tonight.length() + 1), st.run().code(), st.attempts());
      assertEquals(0, st.run().code(), st.name() + " failed:\n" + st.run().out());
    }
    nightTwo.out().lines().filter(l -> l.startsWith(next)).forEach(l -> System.out.println("two nights at once: " + l));
    assertEquals(0, nightTwo.code(), nightTwo.out());
    assertThat(nightTwo.out()).contains(next + " succeeded");
    assertThat(nightTwo.out()).containsPattern(next + " check +exit 0");
    assertThat(nightOne).hasSize(5);
    assertThat(step(nightOne, "check").run().out()).contains("passed");
    assertExecutorKilled(step(nightOne, "ingest").run());
    assertExecutorKilled(step(nightOne, "score").run());

    // Each day holds what an undisturbed ingest (local mode, another warehouse, one at a time) writes.
    String undisturbed = scratch.resolve("undisturbed").toString();
    List<String> apart = new ArrayList<>(settings(undisturbed));
    apart.addAll(List.of("--conf", "nightscore.database=undisturbed"));
    Map<String, Integer> events = new HashMap<>();
    for (String d : List.of(tonight, next)) {
      Cli.Run reference = Cli.run(spark, apart, "ingest", "--date", d, "--input", raw + "/events/dt=" + d);
      assertEquals(0, reference.code(), reference.err());
      List<String> day = Tables.ingested(spark, warehouse, d);
      assertThat(day).as(d + ": every raw row once").hasSize(6000);
      assertEquals(Tables.ingested(spark, undisturbed, d), day, d + ": events and quarantine");
      events.put(d, (int) day.stream().filter(e -> e.startsWith("event ")).count());
    }
    // Every event of both days is scored once, by a model that qualifies for its day (all its days before it).
    for (String d : List.of(tonight, next)) {
      assertThat(Tables.scores(spark, warehouse, d)).as(d + ": every event scored once").hasSize(events.get(d));
      assertThat(Tables.table(spark, warehouse, "scores").where("dt = DATE'" + d + "'").join(
              Tables.table(spark, warehouse, "models").withColumnRenamed("version", "model_version"), "model_version")
          .where("holdout_date >= dt").count()).as(d + ": events scored by a model that saw the day").isZero();
    }
    // Every retrain has its decision, and there is one champion.
    assertThat(Tables.table(spark, warehouse, "models").select("version").except(
        Tables.table(spark, warehouse, "model_decisions").select("model_version")).count()).isZero();
    assertEquals(1, Tables.table(spark, warehouse, "model_aliases").where("alias = 'champion'").count());

    // The work ran on the cluster: the master lists every command as a finished application.
    String json = masterJson();
    for (String app : List.of("nightscore ingest", "nightscore retrain", "nightscore score", "nightscore check",
        "nightscore maintain")) {
      assertThat(json).as("the master ran " + app).contains("\"name\" : \"" + app + "\"");
    }
    // A retrain's two XGBoost workers ran on two executors, one on each worker.
    List<String> retrainApps = new ArrayList<>();
    for (com.fasterxml.jackson.databind.JsonNode app : new com.fasterxml.jackson.databind.ObjectMapper().readTree(json)
        .get("completedapps")) {
      if (app.get("name").asText().equals("nightscore retrain")) {
        retrainApps.add(app.get("id").asText());
      }
    }
    String[] workers = {get("http://127.0.0.1:" + (UI_PORT + 1) + "/json/"),
        get("http://127.0.0.1:" + (UI_PORT + 2) + "/json/")};
    assertThat(retrainApps).as("retrains with an executor on each worker").anyMatch(id ->
        workers[0].contains("\"appid\" : \"" + id + "\"") && workers[1].contains("\"appid\" : \"" + id + "\""));

    // The same model scores tonight to the same numbers in local mode.
    Run trained = step(nightOne, "retrain").run();
    long version = modelVersion(trained);
    Map<String, Double> onCluster = Tables.scores(spark, warehouse, tonight);
    assertEquals(version, modelVersion(step(nightOne, "score").run()), "tonight's model scored tonight");
    locally("score", "--date", tonight, "--model-version", String.valueOf(version));
    Map<String, Double> local = Tables.scores(spark, warehouse, tonight);
    assertEquals(onCluster.keySet(), local.keySet());
    double worst = onCluster.entrySet().stream().mapToDouble(e -> Math.abs(e.getValue() - local.get(e.getKey())))
        .max().orElseThrow();
    assertThat(worst).as("largest difference between cluster and local scores").isLessThanOrEqualTo(1e-6);

    // A retrain that loses an executor in XGBoost's barrier stage, with Spark's stage retries turned off: the
    // job fails (exit 3) saying so, registers nothing, and the champion stays.
    String eventsVersion = trained.out().replaceAll("(?s).*events_version=(\\d+).*", "$1");
    long models = Tables.models(spark, warehouse);
    long champion = Tables.champion(spark, warehouse);
    Run lost = onCluster("retrain-no-retries", killingAnExecutor("XGBoost.training", 1, 0,
            "-Dspark.stage.maxConsecutiveAttempts=1"), with(retrain, tonight, "--events-version", eventsVersion));
    assertEquals(3, lost.code(), lost.out());
    assertExecutorKilled(lost);
    assertThat(lost.out()).contains("nightscore retrain: failed: ").contains("barrier stage")
        .contains("Nothing was registered");
    assertEquals(models, Tables.models(spark, warehouse), "no model registered by the failed retrain");
    assertEquals(champion, Tables.champion(spark, warehouse));

    // The rerun loses an executor the same way, with the default 4 attempts: the training runs again with a new
    // tracker and trains the booster an undisturbed retrain trained (same events version and settings, same digest).
    // The reaper's timeout is shortened: the stuck task's wait is all this run would spend on it.
    Run again = onCluster("retrain-executor-lost", killingAnExecutor("XGBoost.training", 1, 0,
            "-Dspark.task.reaper.killTimeout=10s"),
        with(retrain, tonight, "--events-version", eventsVersion));
    assertEquals(0, again.code(), again.out());
    assertExecutorKilled(again);
    assertThat(java.util.regex.Pattern.compile("stage \\d+ 'XGBoost training \\(attempt [12] of 4\\)' .*\\(matches\\)")
        .matcher(again.out()).results().count()).as("XGBoost's barrier stage ran twice").isEqualTo(2);
    assertThat(again.out()).as("the second attempt had a tracker of its own")
        .contains("XGBoost training attempt 1 of 4 failed").contains("training again with a new tracker");
    assertEquals(Tables.boosterSha(spark, warehouse, version), Tables.boosterSha(spark, warehouse, modelVersion(again)),
        "two retrains on the cluster, one booster");
  }

  /** {@code args} with its last element (a null placeholder) set to {@code value}, then {@code more}. */
  static String[] with(String[] args, String value, String... more) {
    List<String> out = new ArrayList<>(java.util.Arrays.asList(args).subList(0, args.length - 1));
    out.add(value);
    out.addAll(List.of(more));
    return out.toArray(new String[0]);
  }
}
