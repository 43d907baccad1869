package io.nightscore.jobs;

import com.typesafe.config.Config;
import io.nightscore.common.config.ConfigLoader;
import io.nightscore.common.config.Settings;
import io.nightscore.common.registry.ModelStore;
import io.nightscore.common.sql.JobFailedException;
import io.nightscore.common.sql.SqlSafety;
import io.nightscore.common.table.Warehouse;
import io.nightscore.jobs.ingest.IngestJob;
import io.nightscore.jobs.ingest.LabelsJob;
import io.nightscore.jobs.monitor.MonitorJob;
import io.nightscore.tools.notebook.NotebookRunner;
import io.nightscore.jobs.ops.CheckJob;
import io.nightscore.jobs.ops.MaintainJob;
import io.nightscore.jobs.registry.ModelsJob;
import io.nightscore.jobs.retrain.ModelReport;
import io.nightscore.jobs.retrain.RetrainJob;
import io.nightscore.jobs.score.ScoreJob;
import io.nightscore.jobs.sql.SqlJob;
import io.nightscore.jobs.sqlserver.SqlServer;
import io.nightscore.jobs.sqlserver.Users;
import io.nightscore.tools.bench.BenchJob;
import io.nightscore.tools.demo.DemoJob;
import io.nightscore.tools.evaluate.EvaluateJob;
import io.nightscore.tools.generate.GenerateJob;
import io.nightscore.tools.gpu.GpuCheckJob;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine;

/**
 * The nightscore command line: {@code nightscore [--config FILE] [--conf key=value]... <command> [options]}.
 * Each command parses its arguments, loads settings, gets a SparkSession, runs its job and prints the
 * job's result; exit code 0 on success, 1 when a job refuses its input, 2 for bad arguments or settings.
 */
@Command(name = "nightscore", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Nightly ingest, retrain and scoring of ad conversion probabilities on Spark, Delta Lake and XGBoost.",
    subcommands = {Main.Generate.class, Main.Ingest.class, Main.IngestLabels.class, Main.Retrain.class,
        Main.Score.class, Main.Monitor.class, Main.Report.class, Main.Evaluate.class, Main.Sql.class, Main.SqlServerCommand.class,
        Main.Models.class, Main.Maintain.class, Main.Check.class, Main.GpuCheck.class, Main.Bench.class,
        Main.Notebook.class, Main.Demo.class, CommandLine.HelpCommand.class})
public final class Main implements Callable<Integer> {

  @Option(names = "--config", paramLabel = "FILE",
      description = "HOCON overlay on top of the packaged configuration.")
  File config;

  @Option(names = "--conf", paramLabel = "KEY=VALUE",
      description = "Override one key (nightscore.* setting, or a spark.* setting for the session). Repeatable.")
  Map<String, String> conf = new LinkedHashMap<>();

  final Sessions sessions;
  final PrintStream out;

  Main(Sessions sessions, PrintStream out) {
    this.sessions = sessions;
    this.out = out;
  }

  public static void main(String[] args) {
    System.exit(execute(Sessions.submitted(), System.out, System.err, args));
  }

  /** Runs one command line; tests pass an existing session and capture the output. */
  public static int execute(Sessions sessions, PrintStream out, PrintStream err, String... args) {
    CommandLine cl = new CommandLine(new Main(sessions, out));
    cl.setOut(new java.io.PrintWriter(out, true));
    cl.setErr(new java.io.PrintWriter(err, true));
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
      String name = commandLine.getCommandName();
      if (ex instanceof JobFailedException) {
        err.println("nightscore " + name + ": " + ex.getMessage());
        return 1;
      }
      if (ex instanceof IllegalArgumentException) {
        err.println("nightscore " + name + ": " + ex.getMessage());
        return 2;
      }
      String msg = String.valueOf(ex.getMessage());
      int cut = msg.indexOf('\n');
      err.println("nightscore " + name + ": failed: " + ex.getClass().getName() + ": "
          + (cut > 0 ? msg.substring(0, cut) : msg));
      ex.printStackTrace(err);
      return 3;
    });
    return cl.execute(args);
  }

  @Override
  public Integer call() {
    new CommandLine(this).usage(out);
    return 2;
  }

  /** Settings from the layers; spark.* entries of --conf go to the session instead. */
  Settings settings() {
    Map<String, String> nightscore = new LinkedHashMap<>();
    Map<String, String> spark = new LinkedHashMap<>();
    conf.forEach((k, v) -> {
      if (k.startsWith("spark.")) {
        spark.put(k, v);
      } else if (k.startsWith("nightscore.")) {
        nightscore.put(k, v);
      } else {
        throw new IllegalArgumentException("--conf " + k + "=" + v
            + ": keys must start with 'nightscore.' (our settings) or 'spark.' (session settings)");
      }
    });
    Config layered = ConfigLoader.load(config, nightscore);
    if (!spark.isEmpty()) {
      Map<String, Object> quoted = new LinkedHashMap<>();
      spark.forEach((k, v) -> quoted.put("nightscore.spark.\"" + k + "\"", v));
      layered = com.typesafe.config.ConfigFactory.parseMap(quoted).withFallback(layered);
    }
    return Settings.from(layered);
  }

  /** Runs a job with a session, registering the tables first so SQL names resolve. */
  <T> T withSession(String command, JobBody<T> body) {
    Settings settings = settings();
    SparkSession spark = sessions.open(settings, "nightscore " + command);
    try {
      new Warehouse(spark, settings).registerTables();
      return body.run(spark, settings);
    } finally {
      sessions.close(spark);
    }
  }

  @FunctionalInterface
  interface JobBody<T> {
    T run(SparkSession spark, Settings settings);
  }

  /** Prints the nightscore and library versions. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"nightscore " + io.nightscore.common.config.BuildInfo.nightscoreVersion()
          + " (xgboost4j-spark-gpu " + io.nightscore.common.config.BuildInfo.xgboostVersion() + ")"};
    }
  }

  @Command(name = "generate", description = "Write synthetic raw ad events (and their true probabilities).")
  static final class Generate implements Callable<Integer> {
    @ParentCommand Main main;
    @Option(names = "--start-date", required = true, paramLabel = "D", converter = DateConverter.class,
        description = "First day (yyyy-MM-dd).") LocalDate startDate;
    @Option(names = "--days", required = true, paramLabel = "N", description = "Days to write.") int days;
    @Option(names = "--rows-per-day", defaultValue = "100000", paramLabel = "R") long rowsPerDay;
    @Option(names = "--seed", defaultValue = "42", paramLabel = "S") long seed;
    @Option(names = "--output", required = true, paramLabel = "PATH") String output;
    @Option(names = "--format", defaultValue = "csv", description = "csv, json or parquet") IngestJob.Format format;
    @Option(names = "--base-rate", defaultValue = "0.012", description = "Mean true conversion probability.")
    double baseRate;
    @Option(names = "--world", defaultValue = "default", description = "default or criteo") String world;
    @Option(names = "--dirty-rate", defaultValue = "0.001",
        description = "Share of rows corrupted the way real feeds are, for ingest to quarantine.")
    double dirtyRate;

    @Option(names = "--label-delay-days", defaultValue = "0", paramLabel = "N", description = "0: labels in the "
        + "events. N > 0: events without labels, and a conversions feed (positives only) under labels/dt=<arrival "
        + "day>/, delays mostly within a day with a tail cut at N days (the attribution window).")
    int labelDelayDays;

    @Option(names = "--drift-from", paramLabel = "D", converter = DateConverter.class,
        description = "Change the observed features named by --drift from this day on (the truth stays).")
    LocalDate driftFrom;

    @Option(names = "--drift", split = ",", paramLabel = "FEATURE=KIND", defaultValue = "latency_ms=scale,"
        + "os=mix,browser=new", description = "What --drift-from changes: a numeric feature's scale (x3), a "
        + "categorical's mix (half its rows moved to its most frequent value), a new category for 30%% of rows "
        + "(default ${DEFAULT-VALUE}).")
    List<String> drift;

    @Override
    public Integer call() {
      GenerateJob.Drift d = driftFrom == null ? null : GenerateJob.Drift.parse(driftFrom, drift);
      GenerateJob.Result r = main.withSession("generate", (spark, settings) -> GenerateJob.run(spark,
          new GenerateJob.Options(startDate, days, rowsPerDay, seed, output, format.name().toLowerCase(Locale.ROOT),
              baseRate, dirtyRate, world, labelDelayDays, d)));
      main.out.println(r.line());
      return 0;
    }
  }

  @Command(name = "ingest", description = "Load one day of raw events into the events table (bad rows to quarantine).")
  static final class Ingest implements Callable<Integer> {
    @ParentCommand Main main;
    @Option(names = "--date", required = true, paramLabel = "D", converter = DateConverter.class,
        description = "The day (yyyy-MM-dd): every event's time must fall on it.") LocalDate date;
    @Option(names = "--input", required = true, paramLabel = "PATH", description = "The day's raw files (a file or "
        + "a folder).") String input;
    @Option(names = "--format", defaultValue = "csv", description = "csv, json or parquet") IngestJob.Format format;

    @Override
    public Integer call() {
      IngestJob.Result r = main.withSession("ingest",
          (spark, settings) -> IngestJob.run(spark, settings, new IngestJob.Options(date, input, format)));
      main.out.println(r.line());
      return 0;
    }
  }

  @Command(name = "ingest-labels", description = "Load the labels that arrived on one day (e.g. a conversions "
      + "feed) into the labels table (bad rows to label_quarantine); needs nightscore.labels.mature-after-days > 0.")
  static final class IngestLabels implements Callable<Integer> {
    @ParentCommand Main main;

    @Option(names = "--date", required = true, paramLabel = "D", converter = DateConverter.class,
        description = "The day the labels arrived (yyyy-MM-dd).") LocalDate date;

    @Option(names = "--input", required = true, paramLabel = "PATH", description = "The day's label files: the "
        + "event's id, its time or date, the label (1, or 0 for an explicit negative), any other columns.")
    String input;

    @Option(names = "--format", defaultValue = "csv", description = "csv, json or parquet") IngestJob.Format format;

    @Override
    public Integer call() {
      LabelsJob.Result r = main.withSession("ingest-labels",
          (spark, settings) -> LabelsJob.run(spark, settings, new LabelsJob.Options(date, input, format)));
      main.out.println(r.line());
      return 0;
    }
  }

  @Command(name = "monitor", description = "Drift of the day's events and scores against the model's training "
      + "baseline, realized quality of the days whose labels arrived; writes monitor_drift, monitor_quality and the "
      + "monitoring page. check fails the night on its alerts.")
  static final class Monitor implements Callable<Integer> {
    @ParentCommand Main main;

    @Option(names = "--date", required = true, paramLabel = "D", converter = DateConverter.class,
        description = "The night (yyyy-MM-dd).") LocalDate date;

    @Override
    public Integer call() {
      MonitorJob.Result r = main.withSession("monitor", (spark, settings) -> MonitorJob.run(spark, settings, date));
      r.lines().forEach(main.out::println);
      return 0;
    }
  }

  @Command(name = "retrain", description = "Train a model on the window-days days before --date (the last is the holdout).")
  static final class Retrain implements Callable<Integer> {
    @ParentCommand Main main;
    @Option(names = "--date", required = true, paramLabel = "D", converter = DateConverter.class,
        description = "The night (yyyy-MM-dd): trains on the days before it.") LocalDate date;
    @Option(names = "--recipe", defaultValue = "default",
        description = "default, or predecessor (scale_pos_weight = negatives/positives, no calibration; for contrast)")
    RetrainJob.Recipe recipe;
    @Option(names = "--events-version", paramLabel = "V",
        description = "Read the events table at this Delta version (default: the newest); same version + same "
            + "config = same model")
    Long eventsVersion;

    @Override
    public Integer call() {
      RetrainJob.Result r = main.withSession("retrain",
          (spark, settings) -> RetrainJob.run(spark, settings, new RetrainJob.Options(date, recipe, eventsVersion)));
      r.lines(date).forEach(main.out::println);
      return 0;
    }
  }

  @Command(name = "report", description = "(Re)build the HTML report of a model version from the tables.")
  static final class Report implements Callable<Integer> {
    @ParentCommand Main main;
    @Option(names = "--model-version", required = true, paramLabel = "V") long version;

    @Override
    public Integer call() {
      String path = main.withSession("report", (spark, settings) -> {
        Warehouse warehouse = new Warehouse(spark, settings);
        return ModelReport.write(spark, warehouse, new ModelStore(warehouse).get(version));
      });
      main.out.println("report: model_version=" + version + " path=" + path);
      return 0;
    }
  }

  @Command(name = "evaluate", description = "Generate a world, ingest, retrain, score the last day and print its "
      + "metrics beside the true probabilities' (and the Python XGBoost peer's with --peer).")
  static final class Evaluate implements Callable<Integer> {
    @ParentCommand Main main;
    @Option(names = "--world", defaultValue = "default", description = "default or criteo (with --config conf/criteo.conf)")
    String world;
    @Option(names = "--recipe", defaultValue = "default", description = "default or predecessor")
    RetrainJob.Recipe recipe;
    @Option(names = "--start-date", defaultValue = "2026-11-01", paramLabel = "D", converter = DateConverter.class)
    LocalDate startDate;
    @Option(names = "--days", paramLabel = "N", description = "Days to generate (default: window-days + 1)")
    Integer days;
    @Option(names = "--rows-per-day", defaultValue = "100000", paramLabel = "R") long rowsPerDay;
    @Option(names = "--base-rate", defaultValue = "0.012") double baseRate;
    @Option(names = "--seed", defaultValue = "42") long seed;
    @Option(names = "--peer", description = "Also train Python XGBoost on the same rows (needs python3-xgboost, "
        + "python3-pandas)") boolean peer;
    @Option(names = "--python", defaultValue = "/usr/bin/python3", description = "Python with xgboost for --peer")
    String python;
    @Option(names = "--reuse", description = "Skip generate and ingest: retrain and score the events a previous "
        + "evaluate left in the warehouse (to compare settings on the same data)") boolean reuse;

    @Override
    public Integer call() {
      String home = System.getenv().getOrDefault("NIGHTSCORE_HOME", ".");
      main.withSession("evaluate", (spark, settings) -> EvaluateJob.run(spark, settings,
          new EvaluateJob.Options(startDate, days == null ? settings.windowDays() + 1 : days, rowsPerDay, seed, world,
              baseRate, recipe, peer ? python : null,
              home + "/bin/peer_xgboost.py", reuse), main.out));
      return 0;
    }
  }

  @Command(name = "score", description = "Score the events of --date into the scores table (replaces that day) with "
      + "the model that qualifies for the day: the champion, unless it trained on that day.")
  static final class Score implements Callable<Integer> {
    @ParentCommand Main main;
    @Option(names = "--date", required = true, paramLabel = "D", converter = DateConverter.class,
        description = "The day to score (yyyy-MM-dd).") LocalDate date;
    @Option(names = "--model-version", paramLabel = "V",
        description = "Score with this registered version instead of the champion (e.g. an archived one for an old day)")
    Long modelVersion;
    @Option(names = "--shadow", description = "Also score with the newest challenger into scores_shadow")
    boolean shadow;

    @Override
    public Integer call() {
      ScoreJob.Result r = main.withSession("score",
          (spark, settings) -> ScoreJob.run(spark, settings, new ScoreJob.Options(date, modelVersion, shadow)));
      main.out.println(r.line());
      return 0;
    }
  }

  @Command(name = "maintain", description = "OPTIMIZE the day's partitions (Z-ordered by event id) and VACUUM every "
      + "table, keeping the history time travel and the registry's lineage need.")
  static final class Maintain implements Callable<Integer> {
    @ParentCommand Main main;
    @Option(names = "--date", required = true, paramLabel = "D", converter = DateConverter.class,
        description = "The day whose partitions are compacted (yyyy-MM-dd).") LocalDate date;

    @Override
    public Integer call() {
      MaintainJob.Result r = main.withSession("maintain", (spark, settings) -> MaintainJob.run(spark, settings, date));
      r.lines().forEach(main.out::println);
      return 0;
    }
  }

  @Command(name = "check", description = "Fail (exit 1) if the day breaks an invariant: rows conserved, every event "
      + "scored once, scores in [0,1], a champion exists, no monitoring alert for the day.")
  static final class Check implements Callable<Integer> {
    @ParentCommand Main main;
    @Option(names = "--date", required = true, paramLabel = "D", converter = DateConverter.class,
        description = "The day to check (yyyy-MM-dd).") LocalDate date;

    @Override
    public Integer call() {
      CheckJob.Result r = main.withSession("check", (spark, settings) -> CheckJob.run(spark, settings, date));
      r.lines().forEach(main.out::println);
      r.requirePassed();
      return 0;
    }
  }

  @Command(name = "gpu-check", description = "Where the RAPIDS Accelerator would run ingest, retrain's data "
      + "preparation and score for one day (its explain API; no GPU needed). Exit 1 on a fallback not allowed.")
  static final class GpuCheck implements Callable<Integer> {
    @ParentCommand Main main;
    @Option(names = "--date", paramLabel = "D", converter = DateConverter.class,
        description = "The nightly run to plan (default: newest ingested day).") LocalDate date;
    @Option(names = "--input", paramLabel = "PATH", description = "Raw files of that day (default: what ingest recorded).")
    String input;
    @Option(names = "--format", description = "csv, json or parquet (default: what ingest recorded)")
    IngestJob.Format format;
    @Option(names = "--model-version", paramLabel = "V", description = "Model to score with (default: the one that qualifies for the day).")
    Long modelVersion;
    @Option(names = "--gpu-config", paramLabel = "FILE", description = "GPU overlay whose spark.rapids.sql.* "
        + "settings the plan uses (default: conf/gpu-cluster.conf of this installation).")
    File gpuConfig;
    @Option(names = "--explain-out", paramLabel = "DIR", description = "Write RAPIDS' full explanation per query here.")
    File explainOut;

    @Override
    public Integer call() {
      File overlay = gpuConfig != null ? gpuConfig : GpuCheckJob.defaultOverlay();
      Map<String, String> rapids = overlay == null ? Map.of()
          : Settings.from(ConfigLoader.load(overlay, Map.of())).sparkConf();
      GpuCheckJob.Result r = main.withSession("gpu-check", (spark, settings) -> GpuCheckJob.run(spark, settings,
          new GpuCheckJob.Options(date, input, format, modelVersion, rapids,
              explainOut == null ? null : explainOut.toPath())));
      GpuCheckJob.print(r, overlay, main.out);
      return 0;
    }
  }

  @Command(name = "bench", description = "Speed figures side by side on generated data: scoring vs native XGBoost "
      + "prediction, training vs Python XGBoost, time and memory per row from the smallest to the largest day, "
      + "negative sampling. Prints a table and a summary line; writes bench.tsv and plots to --out.")
  static final class Bench implements Callable<Integer> {
    @ParentCommand Main main;
    @Option(names = "--rows", defaultValue = "500000", paramLabel = "N",
        description = "Rows of the generated training day and holdout day (default ${DEFAULT-VALUE}).") long rows;
    @Option(names = "--features", defaultValue = "default", description = "default or criteo (with --config "
        + "conf/criteo.conf)") String features;
    @Option(names = "--out", defaultValue = "bench-out", paramLabel = "DIR",
        description = "Its warehouse, table and plots (default ${DEFAULT-VALUE}); emptied first.") File outDir;
    @Option(names = "--sizes", defaultValue = "2000000,4000000,8000000,16000000", split = ",", paramLabel = "N,...",
        description = "Rows of the scoring days, smallest first (default ${DEFAULT-VALUE}).") List<Long> sizes;
    @Option(names = "--rounds", defaultValue = "100", description = "Boosting rounds, no early stopping.") int rounds;
    @Option(names = "--sampling-rate", defaultValue = "0.1", description = "Negative sampling rate compared.")
    double samplingRate;
    @Option(names = "--python", defaultValue = "/usr/bin/python3", description = "Python with xgboost and pandas.")
    String python;
    @Option(names = "--no-python", description = "Skip the Python XGBoost peer.") boolean noPython;
    @Option(names = "--repeats", defaultValue = "3", description = "Training runs of each side, in turn; the best "
        + "of each is compared (default ${DEFAULT-VALUE}).") int repeats;
    @Option(names = "--train-script", hidden = true, description = "bench_train.py (default: bin/ of this "
        + "installation)") String trainScript;
    @Option(names = "--child-heap", defaultValue = "2g", description = "Heap of each scaling JVM (default "
        + "${DEFAULT-VALUE}): the same for every size.") String childHeap;
    @Option(names = "--in-process", description = "Score the scaling days in this JVM (peak heap) instead of one "
        + "fresh JVM each (peak resident memory, needs bin/nightscore).") boolean inProcess;
    @Option(names = "--record", arity = "0..1", fallbackValue = "docs/bench-history.tsv", paramLabel = "TSV",
        description = "Append the run's figures (commit, date, machine, figure, value) to TSV (default "
        + "${FALLBACK-VALUE}) and redraw the plot beside it (.png).") File record;

    @Override
    public Integer call() throws IOException {
      String home = System.getenv("NIGHTSCORE_HOME");
      List<String> launcher = null;
      if (!inProcess) {
        if (home == null) {
          throw new IllegalArgumentException("bench scores each size in a fresh JVM through bin/nightscore "
              + "(NIGHTSCORE_HOME is not set: run it with bin/nightscore), or use --in-process");
        }
        launcher = new java.util.ArrayList<>(List.of(home + "/bin/nightscore"));
        if (main.config != null) {
          launcher.addAll(List.of("--config", main.config.getAbsolutePath()));
        }
        for (Map.Entry<String, String> e : main.conf.entrySet()) {
          launcher.addAll(List.of("--conf", e.getKey() + "=" + e.getValue()));
        }
      }
      java.nio.file.Path dir = outDir.toPath().toAbsolutePath();
      BenchJob.Options o = new BenchJob.Options(rows, features, dir, List.copyOf(sizes), rounds,
          noPython ? null : python, trainScript != null ? trainScript
              : (home == null ? "bin" : home + "/bin") + "/bench_train.py", launcher,
          samplingRate, childHeap, repeats);
      BenchJob.prepareOut(dir);
      main.withSession("bench", (spark, settings) -> {
        BenchJob.Result r = BenchJob.run(spark, settings, o, main.out);
        if (record != null) {
          BenchJob.record(r, o, spark.sparkContext().defaultParallelism(), record.toPath(), main.out);
        }
        return r;
      });
      return 0;
    }
  }

  @Command(name = "models", description = "The model registry: list, show, promote, rollback, explain.",
      subcommands = {Models.ListVersions.class, Models.Show.class, Models.Promote.class, Models.Rollback.class,
          Models.Explain.class})
  static final class Models implements Callable<Integer> {
    @ParentCommand Main main;

    @Override
    public Integer call() {
      new CommandLine(this).usage(main.out);
      return 2;
    }

    <T> T run(String command, java.util.function.Function<Warehouse, T> body) {
      return main.withSession("models " + command, (spark, settings) -> body.apply(new Warehouse(spark, settings)));
    }

    @Command(name = "list", description = "Every version with its status (champion, challenger, rejected, archived, "
        + "abandoned).")
    static final class ListVersions implements Callable<Integer> {
      @ParentCommand Models models;

      @Override
      public Integer call() {
        models.run("list", w -> ModelsJob.list(w, models.main.out));
        return 0;
      }
    }

    @Command(name = "show", description = "Lineage, fingerprints, metrics and decisions of one version.")
    static final class Show implements Callable<Integer> {
      @ParentCommand Models models;
      @Parameters(paramLabel = "V") long version;
      @Option(names = "--config", description = "Also print the resolved config the version was trained with")
      boolean config;

      @Override
      public Integer call() {
        models.run("show", w -> ModelsJob.show(w, version, config, models.main.out));
        return 0;
      }
    }

    @Command(name = "promote", description = "Make version V the champion (bypasses the gate; recorded with --reason).")
    static final class Promote implements Callable<Integer> {
      @ParentCommand Models models;
      @Parameters(paramLabel = "V") long version;
      @Option(names = "--reason", required = true, paramLabel = "TEXT") String reason;

      @Override
      public Integer call() {
        models.run("promote", w -> ModelsJob.promote(w, version, reason, models.main.out));
        return 0;
      }
    }

    @Command(name = "rollback", description = "Put the previous champion back (recorded with --reason).")
    static final class Rollback implements Callable<Integer> {
      @ParentCommand Models models;
      @Option(names = "--reason", required = true, paramLabel = "TEXT") String reason;

      @Override
      public Integer call() {
        models.run("rollback", w -> ModelsJob.rollback(w, reason, models.main.out));
        return 0;
      }
    }

    @Command(name = "explain", description = "How a scored day came about: model version -> registry row -> "
        + "events table version (time travel) -> config.")
    static final class Explain implements Callable<Integer> {
      @ParentCommand Models models;
      @Option(names = "--date", required = true, paramLabel = "D", converter = DateConverter.class) LocalDate date;

      @Override
      public Integer call() {
        models.run("explain", w -> ModelsJob.explain(w, date, models.main.out));
        return 0;
      }
    }
  }

  @Command(name = "sql", description = "Run SQL against the nightscore tables (<database>.<table>) and print the result.")
  static final class Sql implements Callable<Integer> {
    @ParentCommand Main main;
    @Parameters(arity = "0..1", paramLabel = "STATEMENT") String statement;
    @Option(names = {"-f", "--file"}, paramLabel = "FILE.sql") File file;
    @Option(names = "--format", defaultValue = "table", description = "table, csv or json") SqlJob.Format format;
    @Option(names = "--max-rows", paramLabel = "N", converter = PositiveInt.class, description = "At most N rows per "
        + "statement (default: 1000 for table; every row for csv and json, which stream).") Integer maxRows;

    @Override
    public Integer call() throws IOException {
      if ((statement == null) == (file == null)) {
        throw new IllegalArgumentException("give either a STATEMENT or -f FILE.sql");
      }
      String sql = file != null ? Files.readString(file.toPath(), StandardCharsets.UTF_8) : statement;
      int cap = maxRows == null ? 0 : maxRows;
      main.withSession("sql", (spark, settings) ->
          SqlJob.run(spark, new SqlJob.Options(sql, format, cap), main.out, System.err));
      return 0;
    }
  }

  @Command(name = "sql-server", description = "Serve the nightscore tables over JDBC/ODBC (Spark's Thrift server, "
      + "HiveServer2's protocol): read-only unless --allow-writes, authenticated with --users.",
      subcommands = {SqlServerCommand.AddUser.class})
  static final class SqlServerCommand implements Callable<Integer> {
    @ParentCommand Main main;
    @Option(names = "--port", defaultValue = "10000", paramLabel = "N", description = "TCP port (default 10000).")
    int port;
    @Option(names = "--bind", defaultValue = "127.0.0.1", paramLabel = "ADDRESS", description = "Address to listen "
        + "on (default 127.0.0.1); anything but loopback needs --users and --keystore.") String bind;
    @Option(names = "--allow-writes", description = "Let clients change data and metadata (administrators only); "
        + "settings, code loading, reflection and file reads stay refused.") boolean allowWrites;
    @Option(names = "--users", paramLabel = "FILE", description = "Users file (add-user writes it): connections "
        + "then need a user and password.") Path users;
    @Option(names = "--keystore", paramLabel = "FILE", description = "Java keystore for TLS; its password in "
        + "the environment variable " + SqlServer.KEYSTORE_PASSWORD_ENV + ".") Path keystore;
    @Option(names = "--refresh-seconds", defaultValue = "30", paramLabel = "N", description = "How often tables "
        + "created after the start are registered (default 30).") int refreshSeconds;

    @Override
    public Integer call() throws Exception {
      SqlServer.Options o = new SqlServer.Options(port, bind, allowWrites, users, keystore, refreshSeconds);
      SqlServer.validate(o);
      // The server's own metastore, local and new at every start: it holds only pointers to the warehouse's tables.
      Path state = Files.createTempDirectory("nightscore-sql-server");
      Map<String, String> server = new LinkedHashMap<>();
      SqlServer.sessionConf(o, state).forEach((k, v) -> server.put("nightscore.spark.\"" + k + "\"", v));
      Settings settings = main.settings().with(server);
      SparkSession spark = main.sessions.open(settings, "nightscore sql-server");
      try {
        SqlServer.start(spark, settings, o, state, main.out).await();
      } finally {
        main.sessions.close(spark);
      }
      return 0;
    }

    @Command(name = "add-user", description = "Add a user to a users file, or change the user's password: the "
        + "password is read from standard input (asked twice on a terminal), only its salted PBKDF2 hash is stored.")
    static final class AddUser implements Callable<Integer> {
      @ParentCommand SqlServerCommand server;
      @Parameters(paramLabel = "NAME") String name;
      @Option(names = "--users", required = true, paramLabel = "FILE", description = "The users file (created if "
          + "missing, readable by its owner only).") Path users;

      @Override
      public Integer call() throws IOException {
        String password;
        java.io.Console console = System.console();
        if (console != null) {
          char[] first = console.readPassword("Password for %s: ", name);
          char[] again = console.readPassword("Again: ");
          if (first == null || !java.util.Arrays.equals(first, again)) {
            throw new IllegalArgumentException("the two passwords differ");
          }
          password = new String(first);
        } else {
          java.io.BufferedReader in = new java.io.BufferedReader(
              new java.io.InputStreamReader(System.in, StandardCharsets.UTF_8));
          password = in.readLine();
          if (password == null) {
            throw new IllegalArgumentException("no password on standard input");
          }
        }
        Users.put(users, name, password, Users.ITERATIONS);
        server.main.out.println("sql-server: user " + name + " in " + users);
        return 0;
      }
    }
  }

  @Command(name = "notebook", description = "The analysts' notebooks (notebooks-export/): run one here.",
      subcommands = {Notebook.Run.class})
  static final class Notebook implements Callable<Integer> {
    @ParentCommand Main main;

    @Override
    public Integer call() {
      new CommandLine(this).usage(main.out);
      return 2;
    }

    @Command(name = "run", description = "Run a Databricks SQL notebook's cells against the warehouse; write it "
        + "executed as .ipynb and .html. Exit 1 naming the cell when a cell fails or a check cell returns rows.")
    static final class Run implements Callable<Integer> {
      @ParentCommand Notebook notebook;
      @Parameters(paramLabel = "FILE.sql", description = "A notebook in Databricks SOURCE format.") String file;
      @Option(names = "--param", paramLabel = "NAME=VALUE", description = "A parameter's value (repeatable); "
          + "default: the widget's default, and the configured database for database.") Map<String, String> params;
      @Option(names = "--out", paramLabel = "DIR", description = "Where the pages go (default: "
          + "<warehouse>/notebooks).") String out;

      @Override
      public Integer call() {
        NotebookRunner.Result r = notebook.main.withSession("notebook run", (spark, settings) ->
            NotebookRunner.run(spark, settings, new NotebookRunner.Options(
                new File(file).exists() ? new File(file).getAbsoluteFile().toURI().toString() : file,
                params == null ? Map.of() : params, out)));
        NotebookRunner.lines(r).forEach(notebook.main.out::println);
        return 0;
      }
    }
  }

  @Command(name = "demo", description = "Generate window-days + 1 days, ingest them, retrain for the last day, score "
      + "it, judge it against the true probabilities and summarise with SQL.")
  static final class Demo implements Callable<Integer> {
    @ParentCommand Main main;
    @Option(names = "--start-date", defaultValue = "2026-11-01", paramLabel = "D", converter = DateConverter.class)
    LocalDate startDate;
    @Option(names = "--rows-per-day", defaultValue = "50000", paramLabel = "R") long rowsPerDay;
    @Option(names = "--seed", defaultValue = "42") long seed;

    @Override
    public Integer call() {
      main.withSession("demo", (spark, settings) -> {
        DemoJob.run(spark, settings, new DemoJob.Options(startDate, settings.windowDays() + 1, rowsPerDay, seed),
            main.out);
        return null;
      });
      return 0;
    }
  }

  /** yyyy-MM-dd, a real date; picocli names the option in its error. */
  static final class DateConverter implements CommandLine.ITypeConverter<LocalDate> {
    @Override
    public LocalDate convert(String value) {
      try {
        return SqlSafety.parseDate(value, "the date");
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException("must be a real date in the form yyyy-MM-dd, got '" + value
            + "'");
      }
    }
  }

  /** A whole number of at least 1. */
  static final class PositiveInt implements CommandLine.ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      int n;
      try {
        n = Integer.parseInt(value.trim());
      } catch (NumberFormatException e) {
        throw new CommandLine.TypeConversionException("must be a whole number >= 1, got '" + value + "'");
      }
      if (n < 1) {
        throw new CommandLine.TypeConversionException("must be a whole number >= 1, got '" + value + "'");
      }
      return n;
    }
  }
}
