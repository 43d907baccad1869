package io.nightscore.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nightscore.jobs.Launcher.Run;
import io.nightscore.testing.SparkTestBase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Drivers killed with SIGKILL at random points of {@code ingest}, {@code retrain} and {@code score}, each
 * followed by a rerun of the same command: afterwards the tables equal an undisturbed run's and the registry
 * is coherent. Trials: {@code -Dnightscore.faults.trials} (default 3): the first three kill each command at
 * its worst point ({@link #WORST}), the others a random command at a random time, from
 * {@code -Dnightscore.faults.seed} (default: the clock's; printed, so a failing trial can be replayed).
 */
class DriverKillIT extends SparkTestBase {
  static final String[] DAYS = {"2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"};
  static final String DAY = DAYS[3];
  static final List<String> COMMANDS = List.of("ingest", "retrain", "score");
  static String warehouse;
  static String input;
  static Path logs;
  static List<String> undisturbedDay;
  static Map<String, Double> undisturbedScores;
  static String undisturbedBooster;

  /** The test's small-data settings. */
  static List<String> settings() {
    return List.of("--conf", "nightscore.warehouse=" + warehouse, "--conf", "nightscore.retrain.window-days=3",
        "--conf", "nightscore.xgboost.num-round=30", "--conf", "nightscore.xgboost.early-stopping-rounds=5",
        "--conf", "nightscore.features.min-category-count=5", "--conf", "nightscore.gate.min-calibration-ratio=0.5",
        "--conf", "nightscore.gate.max-calibration-ratio=2.0");
  }

  static List<String> args(String command) {
    return switch (command) {
      case "ingest" -> List.of("ingest", "--date", DAY, "--input", input);
      case "retrain", "score" -> List.of(command, "--date", DAY);
      default -> throw new IllegalArgumentException(command);
    };
  }

  static Cli.Run locally(List<String> args) {
    Cli.Run r = Cli.run(spark, settings(), args.toArray(new String[0]));
    assertEquals(0, r.code(), args + " failed: " + r.err());
    return r;
  }

  /** The launcher's environment: a small driver, scratch space under the test's folder. */
  static Map<String, String> env() {
    return Map.of("NIGHTSCORE_DRIVER_MEMORY", "1g", "NIGHTSCORE_TMP", scratch.resolve("tmp").toString());
  }

  /**
   * The undisturbed night, in this JVM (the trials' reruns run here too): history ingested, then the day
   * ingested, a model trained and the day scored.
   */
  @BeforeAll
  static void undisturbedNight() throws Exception {
    warehouse = scratch.resolve("warehouse").toString();
    logs = Files.createDirectories(scratch.resolve("logs"));
    String raw = scratch.resolve("raw").toString();
    input = raw + "/events/dt=" + DAY;
    locally(List.of("generate", "--start-date", DAYS[0], "--days", "4", "--rows-per-day", "4000", "--seed", "5",
        "--output", raw, "--dirty-rate", "0.005"));
    for (String d : List.of(DAYS[0], DAYS[1], DAYS[2])) {
      locally(List.of("ingest", "--date", d, "--input", raw + "/events/dt=" + d));
    }
    COMMANDS.forEach(command -> locally(args(command)));
    undisturbedDay = Tables.ingested(spark, warehouse, DAY);
    undisturbedScores = Tables.scores(spark, warehouse, DAY);
    undisturbedBooster = Tables.boosterSha(spark, warehouse, 1);
  }

  /** How long each command may run before its driver is killed: up to about its length on 2 cores. */
  static double maxDelaySeconds(String command) {
    return command.equals("retrain") ? 50 : 30;
  }

  /**
   * Where a kill hurts most, for the first trials (one per command): a line of the driver's log after which the
   * kill comes, and how long after it. Ingest: its quarantine committed, its events not. Retrain: its model
   * registered (its report written), the gate not yet decided. Score: the model chosen, the scores being written.
   */
  record KillPoint(String command, String logLine, double delaySeconds) {}

  static final List<KillPoint> WORST = List.of(
      new KillPoint("ingest", "nightscore.quarantine dt=" + DAY + ": wrote", 0),
      new KillPoint("retrain", "report written to", 0),
      new KillPoint("score", "score " + DAY + ": model v", 3));

  /** Waits until {@code log} holds {@code line} (or the process ends), then {@code delaySeconds} more. */
  static boolean waitFor(Process driver, Path log, String line, double delaySeconds) throws Exception {
    while (driver.isAlive() && !(Files.exists(log) && Files.readString(log).contains(line))) {
      Thread.sleep(100);
    }
    return !driver.waitFor((long) (delaySeconds * 1000), TimeUnit.MILLISECONDS);
  }

  @Test
  void killedDriversLeaveTheTablesAsAnUndisturbedNightDoes() throws Exception {
    int trials = Integer.getInteger("nightscore.faults.trials", 3);
    long seed = Long.getLong("nightscore.faults.seed", System.currentTimeMillis()); // for the random trials
    Random random = new Random(seed);
    List<String> report = new ArrayList<>();
    int killed = 0;
    for (int trial = 1; trial <= trials; trial++) {
      KillPoint at = trial <= WORST.size() ? WORST.get(trial - 1) : null;
      String command = at != null ? at.command() : COMMANDS.get(random.nextInt(3));
      double delay = at != null ? at.delaySeconds() : 5 + random.nextDouble() * (maxDelaySeconds(command) - 5);
      List<String> argv = new ArrayList<>(settings());
      argv.addAll(args(command));
      Path log = logs.resolve("trial-" + trial + "-" + command + ".log");
      long started = System.nanoTime();
      Process driver = Launcher.start(log, env(), "nightscore", argv);
      boolean alive = at != null ? waitFor(driver, log, at.logLine(), delay)
          : !driver.waitFor((long) (delay * 1000), TimeUnit.MILLISECONDS);
      double after = (System.nanoTime() - started) / 1e9;
      boolean finished = !alive;
      if (alive) {
        // bin/nightscore execs nothing: the driver is its java child, killed with SIGKILL like the script.
        driver.descendants().forEach(ProcessHandle::destroyForcibly);
        driver.destroyForcibly();
        killed++;
      }
      Run first = Launcher.finish(driver, log);
      if (finished) {
        assertEquals(0, first.code(), "trial " + trial + ": " + command + " ended before the kill, failing:\n"
            + first.out());
      }
      String when = at != null ? "'" + at.logLine() + "' +" + at.delaySeconds() + " s" : "a random point";
      locally(args(command));
      long rows = verify("trial " + trial + " (" + command + " killed at " + when + ", " + after + " s, seed "
          + seed + ")");
      report.add(String.format(Locale.ROOT, "trial %d: %-7s driver %s at %s (%.1f s); rerun ok; %d rows checked",
          trial, command, finished ? "finished before the kill" : "killed", when, after, rows));
    }
    long undecided = Tables.table(spark, warehouse, "models").select("version")
        .except(Tables.table(spark, warehouse, "model_decisions").select("model_version")).count();
    System.out.println("driver kills (seed " + seed + "): " + trials + " trials, " + killed + " drivers killed "
        + "mid-run, every rerun left the tables as the undisturbed night did; " + undecided + " model(s) left "
        + "undecided by killed retrains, never champion nor scorer");
    report.forEach(System.out::println);
    assertThat(killed).as("drivers killed before they finished").isGreaterThan(0);
  }

  /** The tables equal the undisturbed night's and the registry is coherent; returns the rows compared. */
  static long verify(String trial) {
    List<String> day = Tables.ingested(spark, warehouse, DAY);
    assertEquals(undisturbedDay, day, trial + ": the day's events and quarantine");
    assertEquals(day.stream().filter(s -> s.startsWith("event ")).count(),
        Tables.table(spark, warehouse, "events").where("dt = DATE'" + DAY + "'").select("event_id").distinct().count(),
        trial + ": no event twice");
    Map<String, Double> scores = Tables.scores(spark, warehouse, DAY);
    assertEquals(undisturbedScores.keySet(), scores.keySet(), trial + ": every event scored once");
    double worst = scores.entrySet().stream()
        .mapToDouble(e -> Math.abs(e.getValue() - undisturbedScores.get(e.getKey()))).max().orElseThrow();
    assertThat(worst).as(trial + ": scores as the undisturbed night's").isLessThanOrEqualTo(1e-9);

    // A model whose retrain died before the gate stays undecided until nightscore.gate.abandon-after (at least
    // 10 minutes: it might still be running) and is then recorded abandoned (ModelRegistryTest); until then it
    // is neither champion nor a scorer. The champion trains the same booster; the day was scored by promoted
    // models.
    List<Long> undecided = Tables.table(spark, warehouse, "models").select("version")
        .except(Tables.table(spark, warehouse, "model_decisions").select("model_version")).as(
            org.apache.spark.sql.Encoders.LONG()).collectAsList();
    long champion = Tables.champion(spark, warehouse);
    assertThat(undecided).as(trial + ": an undecided model is never champion").doesNotContain(champion);
    assertEquals(undisturbedBooster, Tables.boosterSha(spark, warehouse, champion), trial + ": the champion");
    List<Long> scoredBy = Tables.table(spark, warehouse, "scores").where("dt = DATE'" + DAY + "'")
        .select("model_version").distinct().as(org.apache.spark.sql.Encoders.LONG()).collectAsList();
    List<Long> promoted = Tables.table(spark, warehouse, "model_decisions")
        .where("promoted OR action = 'approved'").select("model_version").as(org.apache.spark.sql.Encoders.LONG())
        .collectAsList();
    assertThat(promoted).as(trial + ": the day's scoring models were promoted or approved").containsAll(scoredBy);
    assertThat(scoredBy).as(trial + ": no undecided model scored").noneMatch(undecided::contains);

    Cli.Run check = Cli.run(spark, settings(), "check", "--date", DAY);
    assertEquals(0, check.code(), trial + ": check\n" + check.out() + check.err());
    return day.size() + scores.size();
  }
}
