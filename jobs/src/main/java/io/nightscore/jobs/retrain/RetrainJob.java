package io.nightscore.jobs.retrain;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;

import io.nightscore.common.BinaryMetrics;
import io.nightscore.common.BuildInfo;
import io.nightscore.common.CategoricalEncoding;
import io.nightscore.common.DevicePreflight;
import io.nightscore.common.EventSchema;
import io.nightscore.common.Features;
import io.nightscore.common.ModelRecord;
import io.nightscore.common.ModelStore;
import io.nightscore.common.Settings;
import io.nightscore.common.Table;
import io.nightscore.common.Warehouse;
import io.nightscore.jobs.JobFailedException;
import io.nightscore.jobs.score.Scoring;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassificationModel;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassifier;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains a model for {@code --date D} on the labelled events of the {@code window-days} days before D,
 * read at one pinned {@code events} version; the last of those days is the holdout.
 */
public final class RetrainJob {
  private static final Logger LOG = LoggerFactory.getLogger(RetrainJob.class);

  public record Options(LocalDate date) {}

  /** What retrain produced: the model version, its data and its holdout quality. */
  public record Result(long modelVersion, long eventsVersion, LocalDate trainStart, LocalDate trainEnd,
      LocalDate holdoutDate, long trainRows, long holdoutRows, int rounds, int bestIteration,
      BinaryMetrics holdout, double trainSeconds, String artifactPath) {}

  private RetrainJob() {}

  /** The round early stopping judged best (0-based); the last round when early stopping was off. */
  static int bestIteration(XGBoostClassificationModel model, int rounds) {
    try {
      String best = model.nativeBooster().getAttr("best_iteration");
      return best == null ? rounds - 1 : Integer.parseInt(best);
    } catch (ml.dmlc.xgboost4j.java.XGBoostError e) {
      throw new IllegalStateException("cannot read best_iteration from the booster", e);
    }
  }

  public static Result run(SparkSession spark, Settings settings, Options options) {
    EventSchema schema = settings.schema();
    Warehouse warehouse = new Warehouse(spark, settings);
    ModelStore store = new ModelStore(warehouse);
    LocalDate date = options.date();
    LocalDate holdoutDate = date.minusDays(1);
    LocalDate trainStart = date.minusDays(settings.windowDays());
    LocalDate trainEnd = date.minusDays(2);

    JobFailedException.unless(DevicePreflight.problem(settings.xgboost().device(), spark.sparkContext().getConf()));
    if (!warehouse.exists(Table.EVENTS)) {
      throw new JobFailedException(warehouse.qualified(Table.EVENTS) + " does not exist yet: ingest "
          + trainStart + " .. " + holdoutDate + " before retraining for " + date);
    }
    long eventsVersion = warehouse.latestVersion(Table.EVENTS);
    Dataset<Row> window = warehouse.readAt(Table.EVENTS, eventsVersion)
        .where(col("dt").geq(lit(java.sql.Date.valueOf(trainStart)))
            .and(col("dt").leq(lit(java.sql.Date.valueOf(holdoutDate)))))
        .where(col(schema.label()).isNotNull());

    spark.sparkContext().setJobDescription("retrain " + date + ": count the window");
    Map<LocalDate, Long> perDay = new TreeMap<>();
    for (Row r : window.groupBy("dt").agg(count(lit(1))).collectAsList()) {
      perDay.put(r.getDate(0).toLocalDate(), r.getLong(1));
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
    for (LocalDate d = trainStart; !d.isAfter(holdoutDate); d = d.plusDays(1)) {
      if (!perDay.containsKey(d)) {
        LOG.warn("retrain {}: no events for {} in the window; training without it", date, d);
      }
    }

    Dataset<Row> trainEvents = window.where(col("dt").lt(lit(java.sql.Date.valueOf(holdoutDate))));
    Dataset<Row> holdoutEvents = window.where(col("dt").equalTo(lit(java.sql.Date.valueOf(holdoutDate))));

    spark.sparkContext().setJobDescription("retrain " + date + ": learn the categorical encoding");
    CategoricalEncoding encoding = CategoricalEncoding.fit(trainEvents, schema.categorical(),
        settings.maxCategories(), settings.minCategoryCount());
    Dataset<Row> train = Features.assemble(trainEvents, schema, encoding);
    Dataset<Row> holdout = Features.assemble(holdoutEvents, schema, encoding);

    spark.sparkContext().setJobDescription("retrain " + date + ": train XGBoost");
    XGBoostClassifier clf = Trainer.classifier(schema, settings.categoricalMode(), settings.xgboost(), true);
    long t0 = System.nanoTime();
    XGBoostClassificationModel model = Trainer.fit(clf, train, holdout);
    double trainSeconds = (System.nanoTime() - t0) / 1e9;
    int rounds = (int) model.nativeBooster().getNumBoostedRound();
    int bestIteration = bestIteration(model, rounds);

    spark.sparkContext().setJobDescription("retrain " + date + ": evaluate on " + holdoutDate);
    Dataset<Row> scored = Scoring.predict(model, holdout, "_score");
    BinaryMetrics metrics = BinaryMetrics.compute(scored, schema.label(), "_score");

    long version = store.nextVersion();
    String artifacts = store.saveArtifacts(version, model, encoding);
    Map<String, String> params = new TreeMap<>(settings.xgboost().params());
    params.put("num_workers", String.valueOf(settings.xgboost().numWorkers()));
    params.put("num_round", String.valueOf(settings.xgboost().numRound()));
    params.put("early_stopping_rounds", String.valueOf(settings.xgboost().earlyStoppingRounds()));
    params.put("categorical_mode", settings.categoricalMode());
    params.put("max_categories", String.valueOf(settings.maxCategories()));
    params.put("min_category_count", String.valueOf(settings.minCategoryCount()));
    ModelRecord record = new ModelRecord(version, Instant.now(), trainStart, trainEnd, holdoutDate,
        eventsVersion, schema.features(), Arrays.asList(Features.types(schema, settings.categoricalMode())),
        schema.categorical(), params, rounds,
        bestIteration, trainRows, holdoutRows, metrics.positives(), metrics.auc(), metrics.logLoss(),
        metrics.meanScore(), metrics.rate(), artifacts, BuildInfo.nightscoreVersion(),
        BuildInfo.xgboostVersion(), settings.rendered());
    store.register(record);
    LOG.info("retrain {}: model v{} on events v{} ({} train rows {}..{}, {} holdout rows {}), {} rounds "
            + "(best {}) in {}s; holdout AUC {} log loss {} mean score {} vs rate {}", date, version,
        eventsVersion, trainRows, trainStart, trainEnd, holdoutRows, holdoutDate, rounds, bestIteration,
        String.format("%.1f", trainSeconds), metrics.auc(), metrics.logLoss(), metrics.meanScore(), metrics.rate());
    return new Result(version, eventsVersion, trainStart, trainEnd, holdoutDate, trainRows, holdoutRows,
        rounds, bestIteration, metrics, trainSeconds, artifacts);
  }
}
