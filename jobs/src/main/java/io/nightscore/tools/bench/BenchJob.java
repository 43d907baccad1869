package io.nightscore.tools.bench;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;

import io.nightscore.common.config.EventSchema;
import io.nightscore.common.config.Settings;
import io.nightscore.common.registry.ModelStore;
import io.nightscore.common.sql.JobFailedException;
import io.nightscore.common.table.Table;
import io.nightscore.common.table.Warehouse;
import io.nightscore.jobs.ingest.IngestJob;
import io.nightscore.jobs.retrain.RetrainJob;
import io.nightscore.jobs.score.ScoreJob;
import io.nightscore.model.features.Features;
import io.nightscore.model.predict.Scoring;
import io.nightscore.model.train.Trainer;
import io.nightscore.tools.generate.GenerateJob;
import io.nightscore.tools.generate.World;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoostError;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassifier;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The speed figures, measured side by side in one run on generated data: end-to-end scoring against native
 * XGBoost prediction on the same rows, retrain's training against single-process Python XGBoost on the same
 * matrix, time and memory per row from the smallest to the largest day, and negative sampling's speed-up and
 * cost. Everything lives under {@code --out}: its own warehouse, the table and the plots.
 */
public final class BenchJob {
  static final LocalDate TRAIN_DAY = LocalDate.of(2026, 1, 1);
  static final LocalDate HOLDOUT_DAY = TRAIN_DAY.plusDays(1);
  static final LocalDate RETRAIN_DATE = TRAIN_DAY.plusDays(2);
  private static final Pattern SCORE_LINE = Pattern.compile("score \\S+: rows=(\\d+) .*seconds=([0-9.]+)");
  private static final Pattern PYTHON_LINE = Pattern.compile("python_xgboost rows=(\\d+) .*dmatrix_seconds="
      + "([0-9.]+) train_seconds=([0-9.]+)");

  /**
   * {@code rows}: rows of each generated day (training day and holdout day; scoring days replicate the holdout
   * day up to {@code sizes}). {@code python}: interpreter with xgboost, null = no Python peer.
   * {@code launcher}: command that runs one nightscore job in a fresh JVM (bin/nightscore with this run's
   * settings), null = measure the scaling sizes in this JVM (heap instead of process memory).
   */
  public record Options(long rows, String world, Path out, List<Long> sizes, int rounds, String python,
      String trainScript, List<String> launcher, double samplingRate, String childHeap, int repeats) {
    public Options {
      if (rows < 100 || sizes.isEmpty() || sizes.stream().anyMatch(s -> s < rows) || !ascending(sizes)
          || rounds < 1 || !(samplingRate > 0 && samplingRate < 1) || repeats < 1) {
        throw new IllegalArgumentException("bench needs --rows >= 100, --sizes each >= --rows (" + rows + ") and "
            + "smallest first, --rounds >= 1, --sampling-rate in (0, 1) and --repeats >= 1; got rows=" + rows
            + " sizes=" + sizes + " rounds=" + rounds + " sampling-rate=" + samplingRate + " repeats=" + repeats);
      }
      sizes = List.copyOf(sizes);
    }
  }

  /** Each value larger than the one before it. */
  static boolean ascending(List<Long> values) {
    for (int i = 1; i < values.size(); i++) {
      if (values.get(i) <= values.get(i - 1)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Empties {@code dir} for a new run and marks it as the bench's; refuses a non-empty folder the bench did not
   * write, since the bench deletes its output folder first.
   */
  public static void prepareOut(Path dir) throws IOException {
    io.nightscore.common.sql.SqlSafety.checkPath(dir.toString(), "--out");
    Path marker = dir.resolve(".nightscore-bench");
    boolean empty = !Files.exists(dir);
    if (!empty) {
      try (var list = Files.list(dir)) {
        empty = list.findAny().isEmpty();
      }
    }
    if (!empty && !Files.exists(marker)) {
      throw new IllegalArgumentException("--out " + dir + " is not empty and was not written by bench; "
          + "bench deletes its --out first, so give it a new or earlier bench folder");
    }
    if (Files.exists(dir)) {
      try (var walk = Files.walk(dir)) {
        for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
    Files.createDirectories(dir);
    Files.writeString(marker, "written by nightscore bench; deleted and rewritten by the next bench run\n");
  }

  /** One scaling point: rows scored, scoring seconds, peak memory in MB and what that memory is. */
  public record Scale(long rows, double seconds, double peakMb, String memory) {
    double secondsPerMillion() {
      return seconds / rows * 1e6;
    }
  }

  /**
   * Seconds of each part of scoring one day, prefix by prefix (see {@link #breakdown}): the scan, then the model
   * inputs and the prediction (one pass over each row on the CPU), then the write and the job's own work.
   */
  public record Breakdown(double scan, double predict, double write) {}

  /**
   * {@code trainSeconds} and {@code pythonSeconds}: the best of the interleaved runs ({@code trainRuns},
   * {@code pythonRuns}; the first training run is the retrain's own fit, {@code retrainSeconds}).
   */
  public record Result(long scoreRows, double scoreSeconds, double nativeSeconds, double stockSeconds,
      Breakdown breakdown, double trainSeconds, double trainPrepSeconds, double pythonSeconds, List<Double> trainRuns,
      List<Double> pythonRuns, double retrainSeconds, int rounds, long trainRows, double sampledTrainSeconds,
      double logLoss, double sampledLogLoss, List<Scale> scaling, double bytesPerRow) {
    public double scoringVsNative() {
      return nativeSeconds / scoreSeconds;
    }

    /** How many times faster than xgboost4j-spark's stock {@code transform}, Delta in to Delta out. */
    public double scoringVsStockTransform() {
      return stockSeconds / scoreSeconds;
    }

    public double trainingVsPython() {
      return trainSeconds / pythonSeconds;
    }

    public double scalingRatio() {
      return scaling.get(scaling.size() - 1).secondsPerMillion() / scaling.get(0).secondsPerMillion();
    }

    public double memoryRatio() {
      return scaling.get(scaling.size() - 1).peakMb() / scaling.get(0).peakMb();
    }

    /**
     * Rows a second that the largest scaling day added over the one before it: (rows − rows before) ÷ (seconds −
     * seconds before). Each day is a whole score job, so what every job pays once (its JVM's compilation,
     * planning, model and registry reads, commit) cancels out, and what is left is the steady rate a day of a
     * billion rows is scored at. NaN with fewer than two days, or when the larger did not take longer.
     */
    public double marginalRowsPerSecond() {
      List<Scale> days = marginDays();
      if (days.isEmpty()) {
        return Double.NaN;
      }
      Scale before = days.get(0);
      Scale big = days.get(1);
      double seconds = big.seconds() - before.seconds();
      return big.rows() > before.rows() && seconds > 0 ? (big.rows() - before.rows()) / seconds : Double.NaN;
    }

    /** The two days the margin is measured between: the one before the largest, then the largest; none with one. */
    public List<Scale> marginDays() {
      return scaling.size() < 2 ? List.of() : scaling.subList(scaling.size() - 2, scaling.size());
    }

    /** {@link #marginalRowsPerSecond} ÷ native prediction's rows a second. */
    public double marginalVsNative() {
      return marginalRowsPerSecond() / (scoreRows / nativeSeconds);
    }
  }

  private BenchJob() {}

  public static Result run(SparkSession spark, Settings base, Options o, PrintStream out) {
    World world = World.named(o.world(), 42);
    if (!world.numeric().equals(base.schema().numeric()) || !world.categorical().equals(base.schema().categorical())) {
      throw new IllegalArgumentException("--features " + o.world() + " generates features that nightscore.schema "
          + "does not name" + (o.world().equals("criteo") ? "; add --config conf/criteo.conf" : "; drop the overlay"));
    }
    Path dir = o.out().toAbsolutePath();
    Settings settings = base.with(Map.of(
        "nightscore.warehouse", dir.resolve("warehouse").toString(),
        "nightscore.database", "nightscore_bench",
        "nightscore.retrain.window-days", "2",
        "nightscore.retrain.negative-sampling-rate", "1.0",
        "nightscore.xgboost.num-round", String.valueOf(o.rounds()),
        "nightscore.xgboost.early-stopping-rounds", "0"));
    Warehouse warehouse = new Warehouse(spark, settings);
    int threads = spark.sparkContext().defaultParallelism();
    out.printf(Locale.ROOT, "== bench: %s features, %d rows a day, %d rounds, %d threads, warehouse %s%n", o.world(),
        o.rows(), o.rounds(), threads, warehouse.root());

    // Data: a training day and a holdout day, generated and ingested like any night.
    String raw = dir.resolve("raw").toString();
    GenerateJob.run(spark, new GenerateJob.Options(TRAIN_DAY, 2, o.rows(), 42, raw, "parquet", 0.012, 0.0,
        o.world()));
    for (LocalDate d : List.of(TRAIN_DAY, HOLDOUT_DAY)) {
      IngestJob.run(spark, settings, new IngestJob.Options(d, raw + "/events/dt=" + d, IngestJob.Format.PARQUET));
    }

    // Training: retrain's fit (Spark plan + XGBoost) against Python XGBoost on the matrix it trained on, run in
    // turns (the retrain's own fit, Python, a fit of the same rows, Python, ...), best of each: on a shared machine
    // the load moves between runs, and one run each measures the neighbours as much as the code.
    RetrainJob.Result full = RetrainJob.run(spark, settings, new RetrainJob.Options(RETRAIN_DATE));
    out.printf(Locale.ROOT, "== retrain: %d rows, %d rounds in %.2f s (model v%d)%n", full.trainRows(), full.rounds(),
        full.trainSeconds(), full.modelVersion());
    RetrainJob.Prepared prepared = RetrainJob.prepare(spark, settings, new RetrainJob.Options(RETRAIN_DATE));
    java.util.function.DoubleSupplier peer = o.python() == null ? null
        : python(spark, settings, prepared, o, dir, threads, out);
    List<Double> trainRuns = new ArrayList<>(List.of(full.trainSeconds()));
    List<Double> pythonRuns = new ArrayList<>();
    for (int run = 0; run < o.repeats(); run++) {
      if (run > 0) {
        trainRuns.add(fitSeconds(spark, settings, prepared));
        out.printf(Locale.ROOT, "== retrain fit, run %d: %.2f s%n", run + 1, trainRuns.get(run));
      }
      if (peer != null) {
        pythonRuns.add(peer.getAsDouble());
      }
    }
    double trainSeconds = trainRuns.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
    double python = pythonRuns.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    // Built inside the timing: Trainer.input plans the query (and runs its shuffle) when it is made.
    double trainPrep = bestOfTwo(() -> Trainer.input(prepared.train(), settings.xgboost().numWorkers(),
        settings.schema().id(), settings.schema().label()).write().format("noop").mode("overwrite").save());
    RetrainJob.Result sampled = RetrainJob.run(spark, settings.with(Map.of(
        "nightscore.retrain.negative-sampling-rate", String.valueOf(o.samplingRate()))),
        new RetrainJob.Options(RETRAIN_DATE));
    out.printf(Locale.ROOT, "== retrain, negatives sampled at %.2f: %d rows in %.2f s%n", o.samplingRate(),
        sampled.sampledTrainRows(), sampled.trainSeconds());

    // Scoring days: the holdout day's events replicated (new ids) up to each size.
    List<LocalDate> days = new ArrayList<>();
    List<Long> dayRows = new ArrayList<>();
    Dataset<Row> holdout = warehouse.day(Table.EVENTS, HOLDOUT_DAY);
    long holdoutRows = holdout.count();
    for (int i = 0; i < o.sizes().size(); i++) {
      LocalDate day = RETRAIN_DATE.plusDays(i);
      long copies = Math.max(1, Math.round((double) o.sizes().get(i) / holdoutRows));
      dayRows.add(replicate(spark, warehouse, settings.schema(), holdout, copies, day).rowsWritten());
      days.add(day);
    }
    double bytesPerRow = bytes(spark, warehouse, days.get(0)) / (double) dayRows.get(0);

    // Scoring against the floor, on the smallest day.
    ScoreJob.Options first = new ScoreJob.Options(days.get(0), full.modelVersion(), false);
    ScoreJob.run(spark, settings, first); // warm-up: JIT, native library, file system caches
    // Best of two after the warm-up, as the native floor is: a 2-core JVM is still compiling Spark's generated
    // code during its second run.
    ScoreJob.Result scored = null;
    double scoreSeconds = Double.MAX_VALUE;
    for (int run = 0; run < 2; run++) {
      long t0 = System.nanoTime();
      scored = ScoreJob.run(spark, settings, first);
      scoreSeconds = Math.min(scoreSeconds, (System.nanoTime() - t0) / 1e9);
    }
    ModelStore.LoadedModel loaded = new ModelStore(warehouse).load(new ModelStore(warehouse).get(full.modelVersion()));
    Breakdown parts = breakdown(spark, warehouse, settings.schema(), loaded, days.get(0), scoreSeconds);
    double nativeSeconds = nativePredict(warehouse, settings.schema(), loaded, days.get(0), threads);
    double stockSeconds = stockTransform(warehouse, settings.schema(), loaded, days.get(0),
        dir.resolve("stock-transform").toUri().toString());
    out.printf(Locale.ROOT, "== score %s: %d rows in %.2f s end to end; native predict %.2f s; stock transform "
        + "%.2f s%n", days.get(0), scored.rowsScored(), scoreSeconds, nativeSeconds, stockSeconds);

    // Scaling: each day scored in a fresh JVM (peak resident memory) or in this one (peak heap).
    List<Scale> scaling = new ArrayList<>();
    for (int i = 0; i < days.size(); i++) {
      Scale s = o.launcher() == null ? scaleInProcess(spark, settings, days.get(i), full.modelVersion())
          : scaleInChild(o.launcher(), o.childHeap(), settings, days.get(i), full.modelVersion(), dir);
      out.printf(Locale.ROOT, "== scale %s: %d rows in %.2f s, peak %s %.0f MB%n", days.get(i), s.rows(),
          s.seconds(), s.memory(), s.peakMb());
      scaling.add(s);
    }
    Result r = new Result(scored.rowsScored(), scoreSeconds, nativeSeconds, stockSeconds, parts, trainSeconds, trainPrep,
        python, trainRuns, pythonRuns, full.trainSeconds(),
        full.rounds(), full.trainRows(), sampled.trainSeconds(), full.holdout().logLoss(),
        sampled.holdout().logLoss(), scaling, bytesPerRow);
    BenchReport.write(r, o, threads, dir, out);
    return r;
  }

  /** Writes {@code copies} copies of the day's events (ids suffixed with the copy number) as {@code day}. */
  static Warehouse.Commit replicate(SparkSession spark, Warehouse warehouse, EventSchema schema,
      Dataset<Row> events, long copies, LocalDate day) {
    List<Column> cols = new ArrayList<>();
    for (String c : events.columns()) {
      cols.add(c.equals(schema.id()) ? concat(col(c), lit("~"), col("_copy").cast("string")).as(c)
          : c.equals("dt") ? lit(java.sql.Date.valueOf(day)).as("dt") : col(c));
    }
    int partitions = (int) Math.max(spark.sparkContext().defaultParallelism(),
        events.rdd().getNumPartitions() * copies / 2);
    Dataset<Row> rows = events.crossJoin(spark.range(copies).withColumnRenamed("id", "_copy"))
        .select(cols.toArray(new Column[0])).repartition(partitions);
    spark.sparkContext().setJobDescription("bench: write " + copies + " copies of the holdout day as " + day);
    return warehouse.overwriteDay(rows, Table.EVENTS, day);
  }

  /** Bytes of the day's Parquet files in the events table (Delta never rewrote them). */
  static long bytes(SparkSession spark, Warehouse warehouse, LocalDate day) {
    org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(warehouse.path(Table.EVENTS) + "/dt=" + day);
    try {
      return p.getFileSystem(spark.sparkContext().hadoopConfiguration()).getContentSummary(p).getLength();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot measure " + p, e);
    }
  }

  /**
   * Scoring one day in growing prefixes, each run to the end: the scan of the columns scoring reads, as it reads
   * them (column batches, or rows), then the scored rows (model inputs and prediction) into Spark's no-op sink;
   * the write is what the end-to-end run adds on top.
   */
  static Breakdown breakdown(SparkSession spark, Warehouse warehouse, EventSchema schema,
      ModelStore.LoadedModel loaded, LocalDate day, double endToEnd) {
    Dataset<Row> events = warehouse.day(Table.EVENTS, day);
    double scan = bestOfTwo(() -> Scoring.scanned(loaded, events, schema, schema.id()).count());
    double predict = noop(Scoring.scoreDay(loaded, events, schema, day, 0, Timestamp.from(Instant.now())));
    return new Breakdown(scan, predict - scan, endToEnd - predict);
  }

  /** Seconds to run a query to the end with Spark's no-op sink; best of two runs (the first also compiles). */
  private static double noop(Dataset<Row> df) {
    return bestOfTwo(() -> df.write().format("noop").mode("overwrite").save());
  }

  /** Seconds of the faster of two runs of {@code work}. */
  private static double bestOfTwo(Runnable work) {
    double best = Double.MAX_VALUE;
    for (int run = 0; run < 2; run++) {
      long t = System.nanoTime();
      work.run();
      best = Math.min(best, (System.nanoTime() - t) / 1e9);
    }
    return best;
  }

  /**
   * The peer a user of the library would write: the day's events read from Delta, their model inputs assembled
   * with Spark expressions, xgboost4j-spark's own {@code model.transform}, the probability of a conversion taken
   * from its vector and written to a Delta table beside the bench (best of two runs, the first also compiles).
   */
  static double stockTransform(Warehouse warehouse, EventSchema schema, ModelStore.LoadedModel loaded, LocalDate day,
      String path) {
    return bestOfTwo(() -> {
      Dataset<Row> inputs = Scoring.assembledInputs(loaded.encoding(), warehouse.day(Table.EVENTS, day), schema,
          schema.id());
      loaded.model().transform(inputs)
          .select(col(schema.id()), org.apache.spark.ml.functions.vector_to_array(col(
              loaded.model().getProbabilityCol()), "float64").getItem(1).as("score"))
          .write().format("delta").mode("overwrite").save(path);
    });
  }

  /**
   * The floor: the day's model inputs already in memory as one dense matrix, predicted by the native booster
   * with as many threads as Spark has cores (best of two runs; the matrix build is not timed).
   */
  static double nativePredict(Warehouse warehouse, EventSchema schema, ModelStore.LoadedModel loaded, LocalDate day,
      int threads) {
    Dataset<Row> events = warehouse.day(Table.EVENTS, day);
    Dataset<Row> assembled = Features.assemble(events, schema, loaded.encoding())
        .select(schema.features().stream().map(f -> col(f).cast("float")).toArray(Column[]::new));
    long n = events.count();
    int nf = schema.features().size();
    if (n * nf > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("the native floor holds the day in one float array: " + n + " rows x "
          + nf + " features is too many; use smaller --sizes");
    }
    float[] data = new float[(int) (n * nf)];
    int i = 0;
    for (Iterator<Row> it = assembled.toLocalIterator(); it.hasNext(); ) {
      Row r = it.next();
      for (int j = 0; j < nf; j++) {
        data[i++] = r.isNullAt(j) ? Float.NaN : r.getFloat(j);
      }
    }
    try {
      Booster booster = loaded.model().nativeBooster().booster();
      booster.setParam("nthread", threads);
      double best = Double.MAX_VALUE;
      for (int run = 0; run < 2; run++) {
        // A fresh matrix each run: XGBoost caches the predictions of a DMatrix it has seen.
        DMatrix matrix = new DMatrix(data, (int) n, nf, Float.NaN);
        try {
          long t = System.nanoTime();
          booster.predict(matrix);
          best = Math.min(best, (System.nanoTime() - t) / 1e9);
        } finally {
          matrix.dispose();
        }
      }
      return best;
    } catch (XGBoostError e) {
      throw new IllegalStateException("native prediction failed", e);
    }
  }

  static Scale scaleInProcess(SparkSession spark, Settings settings, LocalDate day, long version) {
    List<MemoryPoolMXBean> heap = ManagementFactory.getMemoryPoolMXBeans().stream()
        .filter(p -> p.getType() == MemoryType.HEAP).toList();
    System.gc();
    heap.forEach(MemoryPoolMXBean::resetPeakUsage);
    ScoreJob.Result r = ScoreJob.run(spark, settings, new ScoreJob.Options(day, version, false));
    double peak = heap.stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum() / 1048576.0;
    return new Scale(r.rowsScored(), r.seconds(), peak, "heap");
  }

  /**
   * Scores the day in a fresh JVM (heap {@code heap}, committed and touched at start) through the launcher and
   * reads that JVM's peak resident memory (VmHWM) from /proc while it runs; the seconds are the score job's
   * own (JVM start excluded).
   */
  static Scale scaleInChild(List<String> launcher, String heap, Settings settings, LocalDate day, long version,
      Path dir) {
    List<String> argv = new ArrayList<>(launcher);
    argv.addAll(List.of("--conf", "nightscore.warehouse=" + settings.warehouse(), "--conf",
        "nightscore.database=" + settings.database(), "score", "--date", day.toString(), "--model-version",
        String.valueOf(version)));
    Path log = dir.resolve("score-" + day + ".log");
    try {
      ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(log.toFile());
      // The same fixed heap for every size: if the largest day scores in it, nothing grows with the input. The
      // heap is committed and touched at start (-Xms = -Xmx, AlwaysPreTouch): otherwise resident memory follows
      // when the collector chooses to grow the heap, which a longer run reaches sooner whatever it retains;
      // what the peak then adds on top is memory outside the heap (native XGBoost, buffers, metaspace).
      pb.environment().put("NIGHTSCORE_DRIVER_MEMORY", heap);
      pb.environment().put("NIGHTSCORE_JAVA_OPTS", "-Xms" + heap + " -XX:+AlwaysPreTouch");
      // The jar this JVM runs, as it is: a source edited while the bench runs would otherwise have the launcher
      // rebuild it, under this JVM and between the sizes.
      pb.environment().put("NIGHTSCORE_REBUILD", "0");
      Process p = pb.start();
      long peakKb = 0;
      while (!p.waitFor(200, TimeUnit.MILLISECONDS)) {
        for (ProcessHandle h : p.toHandle().descendants().toList()) {
          peakKb = Math.max(peakKb, highWaterMarkKb(h.pid()));
        }
      }
      String text = Files.readString(log, StandardCharsets.UTF_8);
      Matcher m = SCORE_LINE.matcher(text);
      if (p.exitValue() != 0 || !m.find()) {
        throw new JobFailedException("scoring " + day + " in a child JVM failed (exit " + p.exitValue() + "); see "
            + log);
      }
      if (peakKb == 0) {
        throw new JobFailedException("could not read the child JVM's peak memory from /proc (Linux only); use "
            + "--in-process");
      }
      return new Scale(Long.parseLong(m.group(1)), Double.parseDouble(m.group(2)), peakKb / 1024.0, "RSS");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + argv, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new JobFailedException("interrupted while scoring " + day + " in a child JVM");
    }
  }

  /** The peak resident set of a process in kB, 0 when unknown (not a Java process, gone, not Linux). */
  private static long highWaterMarkKb(long pid) {
    try {
      Path status = Path.of("/proc/" + pid + "/status");
      List<String> lines = Files.readAllLines(status, StandardCharsets.UTF_8);
      if (lines.stream().noneMatch(l -> l.startsWith("Name:") && l.contains("java"))) {
        return 0;
      }
      for (String l : lines) {
        if (l.startsWith("VmHWM:")) {
          return Long.parseLong(l.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | RuntimeException e) {
      // the process ended between listing and reading
    }
    return 0;
  }

  /** Retrain's fit of its prepared rows once more, as the retrain makes it (same estimator, no early stopping). */
  static double fitSeconds(SparkSession spark, Settings settings, RetrainJob.Prepared p) {
    spark.sparkContext().setJobDescription("bench: retrain's fit again");
    XGBoostClassifier clf = Trainer.classifier(settings.schema(), settings.categoricalMode(), settings.xgboost(), true);
    long t0 = System.nanoTime();
    Trainer.fit(clf, p.train(), p.stopping(), settings.schema().id());
    return (System.nanoTime() - t0) / 1e9;
  }

  /**
   * Exports the training matrix of the retrain; each call of the result runs Python XGBoost on it in a new
   * process and gives its DMatrix + training seconds.
   */
  static java.util.function.DoubleSupplier python(SparkSession spark, Settings settings, RetrainJob.Prepared p,
      Options o, Path dir, int threads, PrintStream out) {
    EventSchema schema = settings.schema();
    List<Column> cols = new ArrayList<>();
    cols.add(col(schema.label()).cast("float"));
    schema.features().forEach(f -> cols.add(col(f)));
    String export = dir.resolve("python-train").toString();
    spark.sparkContext().setJobDescription("bench: export the training matrix for Python XGBoost");
    p.train().assembled().select(cols.toArray(new Column[0])).write().mode("overwrite").option("header", "true")
        .csv(export);
    Map<String, Object> params = new TreeMap<>(settings.xgboost().params());
    params.remove("device"); // Debian's XGBoost 1.7 predates the device parameter; it trains on the CPU
    params.put("nthread", threads);
    params.put("num_round", o.rounds());
    String json;
    try {
      json = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(params);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    List<String> argv = List.of(o.python(), o.trainScript(), export, json);
    Path log = dir.resolve("python-train.log");
    return () -> runPython(argv, log, o.python(), out);
  }

  private static double runPython(List<String> argv, Path log, String python, PrintStream out) {
    try {
      Process proc = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      proc.waitFor();
      String text = Files.readString(log, StandardCharsets.UTF_8);
      Matcher m = PYTHON_LINE.matcher(text);
      if (proc.exitValue() != 0 || !m.find()) {
        throw new JobFailedException("Python XGBoost failed (exit " + proc.exitValue() + "); see " + log
            + ". It needs Debian's python3-xgboost and python3-pandas (apt-get install python3-xgboost "
            + "python3-pandas), or run bench with --no-python.");
      }
      double seconds = Double.parseDouble(m.group(2)) + Double.parseDouble(m.group(3));
      out.printf(Locale.ROOT, "== python xgboost: %s rows, DMatrix %s s + train %s s%n", m.group(1), m.group(2),
          m.group(3));
      return seconds;
    } catch (IOException e) {
      throw new JobFailedException("cannot start " + python + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new JobFailedException("interrupted while Python XGBoost trained");
    }
  }

  /** Figures by name, in print order, for the table file. */
  static Map<String, String> figures(Result r, Options o, int threads) {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("threads", String.valueOf(threads));
    f.put("features", o.world());
    f.put("score_rows", String.valueOf(r.scoreRows()));
    f.put("score_seconds", fmt(r.scoreSeconds()));
    f.put("native_predict_seconds", fmt(r.nativeSeconds()));
    f.put("stock_transform_seconds", fmt(r.stockSeconds()));
    f.put("scan_seconds", fmt(r.breakdown().scan()));
    f.put("predict_seconds", fmt(r.breakdown().predict()));
    f.put("write_seconds", fmt(r.breakdown().write()));
    f.put("train_rows", String.valueOf(r.trainRows()));
    f.put("rounds", String.valueOf(r.rounds()));
    f.put("train_seconds", fmt(r.trainSeconds()));
    f.put("train_prepare_seconds", fmt(r.trainPrepSeconds()));
    f.put("python_train_seconds", fmt(r.pythonSeconds()));
    f.put("sampled_train_seconds", fmt(r.sampledTrainSeconds()));
    f.put("retrain_train_seconds", fmt(r.retrainSeconds()));
    f.put("sampling_speedup", fmt(r.retrainSeconds() / r.sampledTrainSeconds()));
    f.put("logloss", String.format(Locale.ROOT, "%.5f", r.logLoss()));
    f.put("sampled_logloss", String.format(Locale.ROOT, "%.5f", r.sampledLogLoss()));
    f.put("logloss_change", String.format(Locale.ROOT, "%+.2f%%", 100 * (r.sampledLogLoss() / r.logLoss() - 1)));
    f.put("events_bytes_per_row", fmt(r.bytesPerRow()));
    for (Scale s : r.scaling()) {
      f.put("scale_" + s.rows() + "_seconds", fmt(s.seconds()));
      f.put("scale_" + s.rows() + "_peak_" + s.memory() + "_mb", fmt(s.peakMb()));
    }
    f.put("score_marginal_rows_per_second", fmt(r.marginalRowsPerSecond()));
    f.put("score_marginal_vs_native", fmt(r.marginalVsNative()));
    return f;
  }

  /**
   * Appends a run's headline ratios and every figure of its bench.tsv to the results history {@code tsv}, and
   * redraws its plot ({@code tsv} with .png for .tsv).
   */
  public static void record(Result r, Options o, int threads, Path tsv, PrintStream out) {
    Map<String, String> all = new LinkedHashMap<>(BenchHistory.headline(r));
    all.putAll(figures(r, o, threads));
    Path png = tsv.resolveSibling(tsv.getFileName().toString().replaceFirst("\\.tsv$", "") + ".png");
    BenchHistory.record(tsv, png, io.nightscore.common.config.BuildInfo.codeVersion(), LocalDate.now(),
        BenchHistory.machine(), all);
    out.printf(Locale.ROOT, "recorded %d figures in %s (plot %s)%n", all.size(), tsv, png);
  }

  static String fmt(double v) {
    return Double.isNaN(v) ? "NaN" : String.format(Locale.ROOT, "%.3f", v);
  }

  static void writeText(Path file, String text) {
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, text, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }
}
