package io.nightscore.jobs.retrain;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;

import io.nightscore.common.config.BuildInfo;
import io.nightscore.common.config.EventSchema;
import io.nightscore.common.config.Settings;
import io.nightscore.common.registry.Digests;
import io.nightscore.common.registry.MetricsTable;
import io.nightscore.common.registry.ModelRecord;
import io.nightscore.common.registry.ModelRegistry;
import io.nightscore.common.registry.ModelStore;
import io.nightscore.common.registry.Promotion;
import io.nightscore.common.sql.JobFailedException;
import io.nightscore.common.table.Labels;
import io.nightscore.common.table.Table;
import io.nightscore.common.table.Warehouse;
import io.nightscore.model.DevicePreflight;
import io.nightscore.model.engine.BestRounds;
import io.nightscore.model.engine.TrainingRows;
import io.nightscore.model.features.CategoricalEncoding;
import io.nightscore.model.features.Features;
import io.nightscore.model.predict.Scoring;
import io.nightscore.model.quality.BinaryMetrics;
import io.nightscore.model.quality.Calibration;
import io.nightscore.model.quality.Drift;
import io.nightscore.model.train.Sampling;
import io.nightscore.model.train.Trainer;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassificationModel;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassifier;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains a model for {@code --date D} on the labelled events of the {@code window-days} days before D (with
 * labels that arrive later, the latest {@code window-days} days whose labels are mature on D), read at one pinned
 * {@code events} version; the last of those days is the holdout, split by a hash of the id into a tuning half
 * (early stopping, calibration) and an evaluation half (every reported metric).
 */
public final class RetrainJob {
  private static final Logger LOG = LoggerFactory.getLogger(RetrainJob.class);

  /**
   * How to train. DEFAULT is nightscore's recipe (settings decide sampling and calibration); PREDECESSOR
   * reproduces the system nightscore replaced, for contrast: scale_pos_weight = negatives / positives and
   * no calibration.
   */
  public enum Recipe { DEFAULT, PREDECESSOR }

  /**
   * {@code eventsVersion}: the {@code events} table version to read (null = the newest); retraining at the
   * same version with the same config gives the same model.
   */
  public record Options(LocalDate date, Recipe recipe, Long eventsVersion) {
    public Options(LocalDate date) {
      this(date, Recipe.DEFAULT, null);
    }

    public Options(LocalDate date, Recipe recipe) {
      this(date, recipe, null);
    }
  }

  /** What retrain produced: the model version, its data, its calibration and its quality on the evaluation half. */
  public record Result(long modelVersion, long eventsVersion, LocalDate trainStart, LocalDate trainEnd,
      LocalDate holdoutDate, long trainRows, long sampledTrainRows, long holdoutRows, int rounds, int bestIteration,
      Calibration calibration, BinaryMetrics holdout, double trainSeconds, String artifactPath, String reportPath,
      ModelRegistry.Decision decision) {
    /** The result line scripts and the DAG parse, then the gate's decision. */
    public List<String> lines(LocalDate date) {
      return List.of(String.format(Locale.ROOT,
          "retrain %s: model_version=%d events_version=%d train=%s..%s train_rows=%d sampled_train_rows=%d holdout=%s "
              + "holdout_rows=%d rounds=%d best_iteration=%d calibration=\"%s\" eval_rows=%d auc=%.4f pr_auc=%.4f "
              + "logloss=%.5f ne=%.4f calibration_ratio=%.3f ece=%.5f train_seconds=%.1f report=%s",
          date, modelVersion, eventsVersion, trainStart, trainEnd, trainRows, sampledTrainRows,
          holdoutDate, holdoutRows, rounds, bestIteration, calibration, holdout.rows(),
          holdout.auc(), holdout.prAuc(), holdout.logLoss(), holdout.normalizedEntropy(),
          holdout.calibrationRatio(), holdout.ece(), trainSeconds, reportPath),
          // Promoted or not, retrain succeeded: the decision is printed and recorded, and the exit code is 0.
          "retrain " + date + ": gate " + decision.describe());
    }
  }

  /** The baseline monitor reads, in a model's artifact folder (covered by its artifact fingerprint). */
  public static final String BASELINE_FILE = "baseline.json";

  private RetrainJob() {}

  /** The encoding's kept values per categorical feature, as sets (what the model does not know is "unseen"). */
  public static Map<String, java.util.Set<String>> vocabulary(CategoricalEncoding encoding) {
    Map<String, java.util.Set<String>> out = new TreeMap<>();
    encoding.vocabulary().forEach((f, values) -> out.put(f, new java.util.HashSet<>(values)));
    return out;
  }

  /** The round early stopping judged best (0-based); the last round when early stopping was off. */
  static int bestIteration(XGBoostClassificationModel model, int rounds) {
    try {
      String best = model.nativeBooster().getAttr("best_iteration");
      return best == null ? rounds - 1 : Integer.parseInt(best);
    } catch (ml.dmlc.xgboost4j.java.XGBoostError e) {
      throw new IllegalStateException("cannot read best_iteration from the booster", e);
    }
  }

  /**
   * One retrain's data before XGBoost sees it: the window read at a pinned events version, its days, the
   * holdout split, the categorical encoding learned from the training days, and the model inputs (training
   * rows and early-stopping rows). {@code windowCounts} is the per-day count query the row totals came from;
   * {@code holdoutDay} the holdout day's bare scan (unlabelled rows included), which retrain and the gate each score
   * once and split with {@link #halves}.
   */
  public record Prepared(LocalDate date, LocalDate trainStart, LocalDate trainEnd, LocalDate holdoutDate,
      long eventsVersion, long trainRows, long trainPositives, long holdoutRows, Dataset<Row> windowCounts,
      Dataset<Row> trainEvents, Dataset<Row> holdoutDay, double samplingRate,
      String calibrationMethod, CategoricalEncoding encoding, TrainingRows train, TrainingRows stopping,
      Labels labels) {}

  /**
   * True for the holdout day's tuning half (early stopping and calibration), false for its evaluation half: a
   * seeded hash of (dt, id), so prepare's early-stopping rows and run's calibration rows are the same half.
   */
  public static Column tuneRow(Settings settings, EventSchema schema) {
    return Sampling.unit(settings.retrainSeed(), col(schema.id())).lt(settings.tuneShare());
  }

  /**
   * The labelled rows of the holdout day's scored scan (its id and label kept; labels that arrived later joined by
   * {@code labels}), with {@code _tune}: {@link #tuneRow} of each. The split hashes dt with the id: dt comes back
   * as the day's literal (every row of that scan has it).
   */
  static Dataset<Row> halves(Dataset<Row> scoredDay, Settings settings, EventSchema schema, LocalDate holdoutDate,
      Labels labels) {
    return labels.apply(scoredDay.withColumn("dt", lit(java.sql.Date.valueOf(holdoutDate))))
        .where(col(schema.label()).isNotNull())
        .withColumn("_tune", tuneRow(settings, schema));
  }

  /** The evaluation half of {@link #halves}' rows: every reported metric, the champion's at the gate too. */
  static Dataset<Row> evaluationHalf(Dataset<Row> halves) {
    return halves.where(functions.not(col("_tune")));
  }

  /** Reads, checks and prepares the data of a retrain for {@code options.date()} (runs the statistics jobs). */
  public static Prepared prepare(SparkSession spark, Settings settings, Options options) {
    EventSchema schema = settings.schema();
    Warehouse warehouse = new Warehouse(spark, settings);
    LocalDate date = options.date();
    // With labels that arrive later, the window ends with the newest day whose labels are final on D.
    Labels labels = Labels.asOf(warehouse, settings, date);
    LocalDate holdoutDate = labels.lastMatureDay();
    LocalDate trainStart = holdoutDate.minusDays(settings.windowDays() - 1L);
    LocalDate trainEnd = holdoutDate.minusDays(1);
    if (settings.delayedLabels()) {
      LOG.info("retrain {}: labels mature through {} (nightscore.labels.mature-after-days = {}): window {} .. {}, "
          + "holdout {}, labels table version {}", date, holdoutDate, settings.labelsMatureAfterDays(), trainStart,
          trainEnd, holdoutDate, labels.version());
    }

    if (!warehouse.exists(Table.EVENTS)) {
      throw new JobFailedException(warehouse.qualified(Table.EVENTS) + " does not exist yet: ingest "
          + trainStart + " .. " + holdoutDate + " before retraining for " + date);
    }
    long latestEvents = warehouse.latestVersion(Table.EVENTS);
    long eventsVersion = options.eventsVersion() == null ? latestEvents : options.eventsVersion();
    if (eventsVersion < 0 || eventsVersion > latestEvents) {
      throw new IllegalArgumentException("--events-version must be within [0, " + latestEvents + "] (the versions of "
          + warehouse.qualified(Table.EVENTS) + "), got " + eventsVersion);
    }
    Dataset<Row> window = labels.apply(warehouse.readAt(Table.EVENTS, eventsVersion)
        .where(col("dt").geq(lit(java.sql.Date.valueOf(trainStart)))
            .and(col("dt").leq(lit(java.sql.Date.valueOf(holdoutDate))))))
        .where(col(schema.label()).isNotNull());

    spark.sparkContext().setJobDescription("retrain " + date + ": count the window");
    Map<LocalDate, Long> perDay = new TreeMap<>();
    long trainPositives = 0;
    Dataset<Row> windowCounts = window.groupBy("dt").agg(count(lit(1)), sum(col(schema.label()).cast("long")));
    for (Row r : windowCounts.collectAsList()) {
      LocalDate d = r.getDate(0).toLocalDate();
      perDay.put(d, r.getLong(1));
      if (!d.equals(holdoutDate) && !r.isNullAt(2)) {
        trainPositives += r.getLong(2);
      }
    }
    long holdoutRows = perDay.getOrDefault(holdoutDate, 0L);
    long trainRows = perDay.entrySet().stream().filter(e -> !e.getKey().equals(holdoutDate))
        .mapToLong(Map.Entry::getValue).sum();
    if (holdoutRows == 0 || trainRows == 0) {
      throw new JobFailedException(String.format(
          "retrain %s needs labelled events on %s .. %s (training) and %s (holdout) in %s version %d; "
              + "found rows per day %s. Ingest the missing days first.",
          date, trainStart, trainEnd, holdoutDate, warehouse.qualified(Table.EVENTS), eventsVersion, perDay));
    }
    List<LocalDate> missing = new ArrayList<>();
    for (LocalDate d = trainStart; !d.isAfter(holdoutDate); d = d.plusDays(1)) {
      if (!perDay.containsKey(d)) {
        missing.add(d);
      }
    }
    if (settings.windowDays() - missing.size() < settings.minDays()) {
      throw new JobFailedException(String.format("retrain %s: the window %s .. %s lacks events on %s in %s version "
          + "%d; %d of %d days are there and nightscore.retrain.min-days asks for %d. Ingest the missing days, or "
          + "lower nightscore.retrain.min-days to train without them. Nothing was written.", date, trainStart,
          holdoutDate, missing, warehouse.qualified(Table.EVENTS), eventsVersion, settings.windowDays() - missing.size(),
          settings.windowDays(), settings.minDays()));
    }
    if (!missing.isEmpty()) {
      LOG.warn("retrain {}: no events for {} in the window; training without them (min-days {})", date, missing,
          settings.minDays());
    }

    Dataset<Row> trainEvents = window.where(col("dt").lt(lit(java.sql.Date.valueOf(holdoutDate))));
    Dataset<Row> holdoutEvents = window.where(col("dt").equalTo(lit(java.sql.Date.valueOf(holdoutDate))));
    boolean predecessor = options.recipe() == Recipe.PREDECESSOR;
    double samplingRate = predecessor ? 1.0 : settings.negativeSamplingRate();
    String calibrationMethod = predecessor ? "none" : settings.calibration();
    long seed = settings.retrainSeed();
    Column tuneRow = tuneRow(settings, schema);
    Dataset<Row> tuneEvents = holdoutEvents.where(tuneRow);

    Dataset<Row> sampledTrain = Sampling.negatives(trainEvents, schema, samplingRate, seed);
    CategoricalEncoding encoding;
    TrainingRows train;
    if (settings.categoricalMode().equals("target")) {
      spark.sparkContext().setJobDescription("retrain " + date + ": learn the categorical encoding and its target "
          + "statistics");
      Column fold = Sampling.fold(seed, col(schema.id()), settings.targetFolds());
      CategoricalEncoding.TargetFit target = CategoricalEncoding.fitWithTargetStats(trainEvents, schema.categorical(),
          settings.maxCategories(), settings.minCategoryCount(), schema.label(), fold, settings.targetFolds(),
          settings.targetSmoothing());
      encoding = target.encoding();
      train = TrainingRows.withTargetStats(sampledTrain, schema, target, fold);
    } else {
      spark.sparkContext().setJobDescription("retrain " + date + ": learn the categorical encoding");
      encoding = CategoricalEncoding.fit(trainEvents, schema.categorical(), settings.maxCategories(),
          settings.minCategoryCount());
      train = TrainingRows.of(sampledTrain, schema, encoding);
    }
    // Early stopping judges rounds on tuning rows sampled like the training rows, so both follow the
    // same (sampled) distribution; calibration then sees every tuning row.
    TrainingRows stopping = TrainingRows.of(Sampling.negatives(tuneEvents, schema, samplingRate, seed), schema,
        encoding);

    return new Prepared(date, trainStart, trainEnd, holdoutDate, eventsVersion, trainRows, trainPositives,
        holdoutRows, windowCounts, trainEvents,
        warehouse.dayAt(Table.EVENTS, eventsVersion, holdoutDate), samplingRate, calibrationMethod,
        encoding, train, stopping, labels);
  }

  public static Result run(SparkSession spark, Settings settings, Options options) {
    EventSchema schema = settings.schema();
    Warehouse warehouse = new Warehouse(spark, settings);
    ModelStore store = new ModelStore(warehouse);
    JobFailedException.unless(DevicePreflight.problem(settings.xgboost().device(), spark.sparkContext().getConf()));
    // An earlier retrain that died between registering its model and the gate's decision: record it as abandoned.
    new ModelRegistry(warehouse).abandonUndecided(store, settings.gate().abandonAfter(), Instant.now());
    Trainer.loadNativeLibraryInBackground();
    Prepared p = prepare(spark, settings, options);
    LocalDate date = p.date();
    LocalDate holdoutDate = p.holdoutDate();
    LocalDate trainStart = p.trainStart();
    LocalDate trainEnd = p.trainEnd();
    long eventsVersion = p.eventsVersion();
    long trainRows = p.trainRows();
    long trainPositives = p.trainPositives();
    long holdoutRows = p.holdoutRows();
    boolean predecessor = options.recipe() == Recipe.PREDECESSOR;
    double samplingRate = p.samplingRate();
    String calibrationMethod = p.calibrationMethod();
    CategoricalEncoding encoding = p.encoding();
    TrainingRows train = p.train();
    TrainingRows stopping = p.stopping();

    Map<String, Object> extra = new TreeMap<>();
    if (predecessor) {
      extra.put("scale_pos_weight", (double) (trainRows - trainPositives) / Math.max(1, trainPositives));
    }

    spark.sparkContext().setJobDescription("retrain " + date + ": train XGBoost");
    XGBoostClassifier clf = Trainer.classifier(schema, settings.categoricalMode(), settings.xgboost(), extra, true);
    long t0 = System.nanoTime();
    XGBoostClassificationModel trained = Trainer.fit(clf, train, stopping, schema.id());
    double trainSeconds = (System.nanoTime() - t0) / 1e9;
    int rounds = (int) trained.nativeBooster().getNumBoostedRound();
    int bestIteration = bestIteration(trained, rounds);
    List<Double> trainCurve = Trainer.trainCurve(trained);
    List<Double> tuneCurve = Trainer.tuneCurve(trained);
    // From here on the model is the one early stopping chose: calibration, metrics, the gate and every score use
    // rounds 0..best, not the rounds trained after it.
    XGBoostClassificationModel model = BestRounds.keep(trained, bestIteration);
    long sampledTrainRows = samplingRate < 1 ? train.events().count() : trainRows;

    // The holdout day is scored once, from the bare scan (its column batches: a filter above the scan would send
    // scoring down the row path), and split into its halves afterwards: calibration fits on the tuning half,
    // every metric comes from the evaluation half.
    spark.sparkContext().setJobDescription("retrain " + date + ": score " + holdoutDate + " (holdout day)");
    Dataset<Row> holdout = halves(Scoring.rawProbabilities(model, encoding, p.holdoutDay(), schema,
        List.of(schema.id(), schema.label()), "_raw"), settings, schema, holdoutDate, p.labels())
        .select(col(schema.label()), col("_raw"), col("_tune"))
        .persist(StorageLevel.MEMORY_AND_DISK());
    Calibration calibration;
    BinaryMetrics metrics;
    Drift.FeatureBaseline scoreBaseline;
    try {
      spark.sparkContext().setJobDescription("retrain " + date + ": fit " + calibrationMethod + " calibration on "
          + holdoutDate + " (tuning half)");
      calibration = Calibration.fit(calibrationMethod, samplingRate, holdout.where(col("_tune")), schema.label(),
          "_raw");
      spark.sparkContext().setJobDescription("retrain " + date + ": evaluate on " + holdoutDate + " (evaluation half)");
      metrics = BinaryMetrics.compute(evaluationHalf(holdout)
          .select(col(schema.label()), calibration.apply(col("_raw")).as("_score")), schema.label(), "_score");
      spark.sparkContext().setJobDescription("retrain " + date + ": baseline of the holdout's scores");
      scoreBaseline = Drift.scoreProfile(holdout.select(calibration.apply(col("_raw")).as("_score")), "_score");
    } finally {
      holdout.unpersist();
    }

    String artifacts = store.saveArtifacts(ModelRegistry.newDecisionId(), model, encoding);
    // What monitor compares each scored day with: the training window's profile and the holdout's scores.
    spark.sparkContext().setJobDescription("retrain " + date + ": baseline of the training window");
    Drift.write(spark, new Drift.Baseline(trainRows, Drift.profile(p.trainEvents(), trainRows, schema.numeric(),
        schema.categorical(), vocabulary(encoding), settings.retrainSeed()), scoreBaseline),
        artifacts + "/" + BASELINE_FILE);
    Map<String, String> artifactSha256 = store.fingerprint(artifacts);
    Map<String, String> params = new TreeMap<>(settings.xgboost().params());
    extra.forEach((k, v) -> params.put(k, String.valueOf(v)));
    params.put("num_workers", String.valueOf(settings.xgboost().numWorkers()));
    params.put("num_round", String.valueOf(settings.xgboost().numRound()));
    params.put("early_stopping_rounds", String.valueOf(settings.xgboost().earlyStoppingRounds()));
    params.put("categorical_mode", settings.categoricalMode());
    params.put("max_categories", String.valueOf(settings.maxCategories()));
    params.put("min_category_count", String.valueOf(settings.minCategoryCount()));
    if (settings.categoricalMode().equals("target")) {
      params.put("target_smoothing", String.valueOf(settings.targetSmoothing()));
      params.put("target_folds", String.valueOf(settings.targetFolds()));
    }
    params.put("tune_share", String.valueOf(settings.tuneShare()));
    if (settings.delayedLabels()) {
      params.put("labels_mature_after_days", String.valueOf(settings.labelsMatureAfterDays()));
      params.put("labels_version", String.valueOf(p.labels().version()));
    }
    String reportPath = artifacts + "/report/index.html";
    List<String> featureTypes = Arrays.asList(Features.types(schema, settings.categoricalMode()));
    Map<String, Double> featureGain = Trainer.featureGain(model, schema.features());
    ModelRecord record = store.register(version -> new ModelRecord(version, Instant.now(), trainStart, trainEnd,
        holdoutDate, eventsVersion, schema.features(), featureTypes, schema.categorical(), params, rounds,
        bestIteration, trainRows, metrics.rows(), metrics.positives(), metrics.auc(), metrics.logLoss(),
        metrics.meanScore(), metrics.rate(), artifacts, BuildInfo.nightscoreVersion(),
        BuildInfo.xgboostVersion(), settings.rendered(), options.recipe().name().toLowerCase(Locale.ROOT),
        calibration, trainCurve, tuneCurve, featureGain, reportPath, BuildInfo.codeVersion(),
        Digests.sha256(settings.rendered()), Digests.featureSchema(schema.features(), featureTypes,
            schema.categorical()), artifactSha256));
    long version = record.version();
    MetricsTable.write(warehouse, List.of(new MetricsTable.Entry(version, "holdout", holdoutDate, "model", metrics)));
    ModelReport.write(spark, warehouse, record);
    spark.sparkContext().setJobDescription("retrain " + date + ": gate v" + version + " against the champion");
    ModelRegistry.Decision decision = Promotion.gate(warehouse, schema, settings.gate(), record, metrics,
        new Promotion.Holdout(holdoutDate, p.holdoutDay(),
            scored -> evaluationHalf(halves(scored, settings, schema, holdoutDate, p.labels()))));
    LOG.info("retrain {}: model v{} on events v{} ({} train rows {}..{}, {} after sampling, holdout {}), {} rounds "
            + "(best {}) in {}s; calibration {}; evaluation half AUC {} log loss {} NE {} calibration ratio {}",
        date, version, eventsVersion, trainRows, trainStart, trainEnd, sampledTrainRows, holdoutDate, rounds,
        bestIteration, String.format("%.1f", trainSeconds), calibration, metrics.auc(), metrics.logLoss(),
        metrics.normalizedEntropy(), metrics.calibrationRatio());
    return new Result(version, eventsVersion, trainStart, trainEnd, holdoutDate, trainRows, sampledTrainRows,
        holdoutRows, rounds, bestIteration, calibration, metrics, trainSeconds, artifacts, reportPath, decision);
  }
}
