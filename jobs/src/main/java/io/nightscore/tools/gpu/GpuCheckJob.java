package io.nightscore.tools.gpu;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.max;

import io.nightscore.common.config.EventSchema;
import io.nightscore.common.config.Settings;
import io.nightscore.common.registry.ModelRegistry;
import io.nightscore.common.registry.ModelStore;
import io.nightscore.common.sql.JobFailedException;
import io.nightscore.common.table.Table;
import io.nightscore.common.table.Warehouse;
import io.nightscore.jobs.ingest.IngestJob;
import io.nightscore.jobs.retrain.RetrainJob;
import io.nightscore.jobs.score.ScoreJob;
import io.nightscore.model.features.CategoricalEncoding;
import io.nightscore.model.predict.Scoring;
import io.nightscore.model.train.Sampling;
import io.nightscore.model.train.Trainer;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Shows where the RAPIDS Accelerator would run the dataframe work of ingest, retrain's data preparation and
 * score for one day, without a GPU: the queries the jobs build are handed to RAPIDS' own explain API
 * ({@code ExplainPlan.explainPotentialGpuPlan}), which plans them as the plugin would. Nothing is written.
 */
public final class GpuCheckJob {
  static final String EXPLAIN_CLASS = "com.nvidia.spark.rapids.ExplainPlan";

  /**
   * {@code date}: the nightly run to plan (null = the newest day in events). {@code input}/{@code format}:
   * the raw files of that day (null = what ingest recorded). {@code modelVersion}: null = the champion.
   * {@code rapidsConf}: spark.rapids.* settings of the GPU cluster, applied to this session for the plan.
   * {@code explainDir}: where to write RAPIDS' full explanation of each query (null = nowhere).
   */
  public record Options(LocalDate date, String input, IngestJob.Format format, Long modelVersion,
      Map<String, String> rapidsConf, Path explainDir) {}

  /** One query a job runs, and its operators as RAPIDS would place them. */
  public record Query(String job, String name, List<GpuPlacement.Operator> operators) {
    public long onGpu() {
      return operators.stream().filter(GpuPlacement.Operator::onGpu).count();
    }
  }

  public record Result(LocalDate date, List<Query> queries) {
    public List<GpuPlacement.Operator> unexpected() {
      return queries.stream().flatMap(q -> GpuPlacement.unexpected(q.operators()).stream()).toList();
    }

    /** Operators on the GPU and in all, for one job. */
    public long[] share(String job) {
      long gpu = 0;
      long all = 0;
      for (Query q : queries) {
        if (q.job().equals(job)) {
          gpu += q.onGpu();
          all += q.operators().size();
        }
      }
      return new long[] {gpu, all};
    }
  }

  private GpuCheckJob() {}

  /** The GPU overlay gpu-check plans with when none is given: conf/gpu-cluster.conf of this installation. */
  public static java.io.File defaultOverlay() {
    String home = System.getenv("NIGHTSCORE_HOME");
    java.io.File installed = home == null ? null : new java.io.File(home, "conf/gpu-cluster.conf");
    return installed != null && installed.isFile() ? installed : null;
  }

  /**
   * The report: each query's share of operators on the GPU, every fallback with its reason and whether it is
   * allowed, and a summary line; fails the job (exit 1) on a fallback outside the allow-list.
   */
  public static void print(Result r, java.io.File overlay, java.io.PrintStream out) {
    out.printf(Locale.ROOT, "gpu-check %s: RAPIDS' potential GPU plan of each query (%s)%n", r.date(),
        overlay == null ? "RAPIDS defaults" : "spark.rapids.sql.* of " + overlay);
    for (Query q : r.queries()) {
      out.printf(Locale.ROOT, "  %-8s %-32s %3d of %3d operators on GPU%n", q.job(), q.name(), q.onGpu(),
          q.operators().size());
      for (GpuPlacement.Operator op : q.operators()) {
        if (!op.onGpu()) {
          out.printf(Locale.ROOT, "      CPU %-24s %s%n          %s%n", op.name(), op.reason(),
              GpuPlacement.allowance(op).map(a -> "allowed: " + a.why()).orElse("NOT ALLOWED: fix this fallback"));
        }
      }
    }
    StringBuilder summary = new StringBuilder("gpu-check " + r.date() + ":");
    for (String job : new String[] {"ingest", "retrain", "score"}) {
      long[] s = r.share(job);
      summary.append(String.format(Locale.ROOT, " %s %d/%d (%.0f%%)", job, s[0], s[1], 100.0 * s[0] / s[1]));
    }
    summary.append(" operators on GPU; unexpected fallbacks ").append(r.unexpected().size());
    out.println(summary);
    if (!r.unexpected().isEmpty()) {
      throw new JobFailedException("operators would fall back to the CPU outside the allow-list: "
          + r.unexpected().stream().map(o -> o.name() + " (" + o.reason() + ")").toList());
    }
  }

  public static Result run(SparkSession spark, Settings settings, Options options) {
    Method explain = explainApi();
    options.rapidsConf().forEach((k, v) -> {
      if (k.startsWith("spark.rapids.sql.")) {
        spark.conf().set(k, v);
      }
    });
    Warehouse warehouse = new Warehouse(spark, settings);
    if (!warehouse.exists(Table.EVENTS)) {
      throw new JobFailedException(warehouse.qualified(Table.EVENTS) + " does not exist: gpu-check plans the jobs "
          + "on ingested days; ingest some first");
    }
    EventSchema schema = settings.schema();
    LocalDate date = options.date() != null ? options.date() : newestDay(warehouse);
    List<Query> queries = new ArrayList<>();
    Explainer explainer = new Explainer(explain, options.explainDir(), queries);

    // ingest: the day's raw files, as ingest recorded them unless told otherwise.
    Map<String, Object> recorded = warehouse.dayMetadata(Table.EVENTS, date).orElse(Map.of());
    String input = options.input() != null ? options.input() : (String) recorded.get("input");
    if (input == null) {
      throw new JobFailedException("no raw input for " + date + ": ingest recorded none (days ingested before "
          + "gpu-check existed) and --input was not given");
    }
    IngestJob.Format format = options.format() != null ? options.format()
        : IngestJob.Format.valueOf(String.valueOf(recorded.getOrDefault("format", "csv")).toUpperCase(Locale.ROOT));
    IngestJob.Plans ingest = IngestJob.plans(spark, settings, new IngestJob.Options(date, input, format),
        Timestamp.from(Instant.now()));
    explainer.add("ingest", "raw row count", ingest.raw().groupBy().count());
    explainer.add("ingest", "events rows", ingest.events());
    explainer.add("ingest", "quarantine rows", ingest.quarantine());
    if (warehouse.exists(Table.QUARANTINE)) {
      explainer.add("ingest", "quarantine reasons", warehouse.day(Table.QUARANTINE, date)
          .groupBy("reason").count());
    }

    // retrain: everything before XGBoost (the statistics jobs run: the later queries embed their results).
    RetrainJob.Prepared p = RetrainJob.prepare(spark, settings, new RetrainJob.Options(date));
    explainer.add("retrain", "window rows per day", p.windowCounts());
    if (settings.categoricalMode().equals("target")) {
      explainer.add("retrain", "categorical encoding",
          CategoricalEncoding.vocabularyAndTargetQuery(p.trainEvents(), schema.categorical(), settings.maxCategories(),
              settings.minCategoryCount(), schema.label(),
              Sampling.fold(settings.retrainSeed(), col(schema.id()), settings.targetFolds()), settings.targetFolds()));
    } else {
      explainer.add("retrain", "categorical vocabulary", CategoricalEncoding.vocabularyQuery(p.trainEvents(),
          schema.categorical(), settings.maxCategories(), settings.minCategoryCount()));
    }
    int workers = settings.xgboost().numWorkers();
    explainer.add("retrain", "training rows",
        Trainer.deterministicLayout(p.train().assembled(), workers, schema.id()));
    explainer.add("retrain", "early-stopping rows",
        Trainer.deterministicLayout(p.stopping().assembled(), workers, schema.id()));

    // score: the day's events into the model inputs.
    ModelStore store = new ModelStore(warehouse);
    var record = ScoreJob.modelToScore(warehouse, store, new ModelRegistry(warehouse), options.modelVersion(), date);
    long eventsVersion = warehouse.latestVersion(Table.EVENTS);
    Dataset<Row> events = warehouse.dayAt(Table.EVENTS, eventsVersion, date);
    // On a GPU cluster score predicts with xgboost4j-spark-gpu's transform from these assembled inputs; the CPU's
    // one-pass predictor (Scoring.probabilities) is not what a GPU would run.
    explainer.add("score", "model inputs (model v" + record.version() + ")", Scoring.assembledInputs(
        store.load(record).encoding(), events, schema, schema.id()));
    return new Result(date, queries);
  }

  private static LocalDate newestDay(Warehouse warehouse) {
    Row r = warehouse.read(Table.EVENTS).agg(max("dt")).head();
    if (r.isNullAt(0)) {
      throw new JobFailedException(warehouse.qualified(Table.EVENTS) + " is empty: ingest a day first");
    }
    return r.getDate(0).toLocalDate();
  }

  /** RAPIDS' explain entry point, from the RAPIDS jar on the driver's class path. */
  static Method explainApi() {
    try {
      ClassLoader loader = Thread.currentThread().getContextClassLoader();
      return Class.forName(EXPLAIN_CLASS, true, loader).getMethod("explainPotentialGpuPlan", Dataset.class,
          String.class);
    } catch (ClassNotFoundException | NoSuchMethodException e) {
      throw new JobFailedException("the RAPIDS Accelerator jar is not on the class path (" + EXPLAIN_CLASS
          + " not found). bin/nightscore gpu-check adds it from the local Maven repository, where the build puts "
          + "it; with spark-submit pass it with --driver-class-path rapids-4-spark_2.12-<version>-cuda12.jar");
    }
  }

  /** Explains each query and keeps its operators (and the full text, when asked). */
  private record Explainer(Method explain, Path dir, List<Query> queries) {
    void add(String job, String name, Dataset<Row> df) {
      String text;
      try {
        text = String.valueOf(explain.invoke(null, df, "ALL"));
      } catch (IllegalAccessException e) {
        throw new IllegalStateException(e);
      } catch (InvocationTargetException e) {
        throw new IllegalStateException("RAPIDS could not explain " + job + " / " + name + ": "
            + e.getCause(), e.getCause());
      }
      if (dir != null) {
        try {
          Files.createDirectories(dir);
          Files.writeString(dir.resolve(String.format(Locale.ROOT, "%02d-%s-%s.txt", queries.size() + 1, job,
              name.replaceAll("[^A-Za-z0-9]+", "-"))), text, StandardCharsets.UTF_8);
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }
      queries.add(new Query(job, name, GpuPlacement.parse(text)));
    }
  }
}
