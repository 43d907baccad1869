package io.nightscore.jobs.score;

import io.nightscore.common.config.EventSchema;
import io.nightscore.common.config.Settings;
import io.nightscore.common.registry.Digests;
import io.nightscore.common.registry.ModelRecord;
import io.nightscore.common.registry.ModelRegistry;
import io.nightscore.common.registry.ModelStore;
import io.nightscore.common.sql.JobFailedException;
import io.nightscore.common.table.Table;
import io.nightscore.common.table.Warehouse;
import io.nightscore.model.DevicePreflight;
import io.nightscore.model.features.Features;
import io.nightscore.model.predict.Scoring;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores the events of {@code --date D} into {@code scores}, replacing exactly that day, with the champion
 * (or the version asked for); with shadow scoring, the newest challenger scores the same rows into
 * {@code scores_shadow}. Every model is checked against the registry (artifact SHA-256, feature schema) and
 * the events table before anything is written.
 */
public final class ScoreJob {
  private static final Logger LOG = LoggerFactory.getLogger(ScoreJob.class);

  /** {@code modelVersion}: null = the champion. {@code shadow}: also score with the newest challenger. */
  public record Options(LocalDate date, Long modelVersion, boolean shadow) {
    public Options(LocalDate date) {
      this(date, null, false);
    }
  }

  /** {@code shadowVersion} is null when there was no shadow scoring. */
  public record Result(LocalDate date, long modelVersion, long eventsVersion, long rowsScored, long scoresVersion,
      double seconds, Long shadowVersion, long shadowRows) {
    /** The result line scripts and the DAG parse. */
    public String line() {
      return String.format(Locale.ROOT, "score %s: rows=%d model_version=%d events_version=%d scores_version=%d "
          + "seconds=%.3f%s", date, rowsScored, modelVersion, eventsVersion, scoresVersion, seconds,
          shadowVersion == null ? "" : " shadow_version=" + shadowVersion + " shadow_rows=" + shadowRows);
    }
  }

  private ScoreJob() {}

  public static Result run(SparkSession spark, Settings settings, Options options) {
    EventSchema schema = settings.schema();
    Warehouse warehouse = new Warehouse(spark, settings);
    LocalDate date = options.date();
    JobFailedException.unless(DevicePreflight.problem(settings.xgboost().device(), spark.sparkContext().getConf()));
    ModelStore store = new ModelStore(warehouse);
    ModelRegistry registry = new ModelRegistry(warehouse);
    if (!warehouse.exists(Table.EVENTS)) {
      throw new JobFailedException(warehouse.qualified(Table.EVENTS) + " does not exist: ingest " + date + " first");
    }
    ModelRecord record = modelToScore(warehouse, store, registry, options.modelVersion(), date);
    ModelRecord shadow = options.shadow() || settings.shadowScoring()
        ? newestChallenger(store, registry, record.version()).orElse(null) : null;
    if ((options.shadow() || settings.shadowScoring()) && shadow == null) {
      LOG.info("score {}: no challenger newer than the champion; no shadow scores", date);
    }

    long eventsVersion = warehouse.latestVersion(Table.EVENTS);
    Dataset<Row> events = warehouse.dayAt(Table.EVENTS, eventsVersion, date);
    List<String> problems = new ArrayList<>(problems(store, record, schema, events.schema()));
    if (shadow != null) {
      problems.addAll(problems(store, shadow, schema, events.schema()));
    }
    if (!problems.isEmpty()) {
      throw new JobFailedException("refusing to score " + date + ": " + String.join("; ", problems)
          + ". Nothing was written.");
    }

    spark.sparkContext().setJobDescription("score " + date + " with model v" + record.version());
    long t0 = System.nanoTime();
    Timestamp scoredAt = Timestamp.from(Instant.now());
    Dataset<Row> scores = Scoring.scoreDay(store.load(record), events, schema, date, eventsVersion, scoredAt);
    Warehouse.Commit commit = warehouse.overwriteDay(scores, Table.SCORES, date);
    double seconds = (System.nanoTime() - t0) / 1e9;
    if (commit.rowsWritten() == 0) {
      LOG.warn("score {}: {} has no events for this date (version {}); the day now has no scores", date,
          warehouse.qualified(Table.EVENTS), eventsVersion);
    }
    LOG.info("score {}: {} rows with model v{} (events v{}) in {}s -> scores v{}", date, commit.rowsWritten(),
        record.version(), eventsVersion, String.format("%.1f", seconds), commit.version());
    long shadowRows = 0;
    if (shadow != null) {
      spark.sparkContext().setJobDescription("score " + date + " with challenger v" + shadow.version() + " (shadow)");
      Warehouse.Commit s = warehouse.overwriteDay(
          Scoring.scoreDay(store.load(shadow), events, schema, date, eventsVersion, scoredAt), Table.SCORES_SHADOW, date);
      shadowRows = s.rowsWritten();
      LOG.info("score {}: shadow {} rows with challenger v{} -> scores_shadow v{}", date, shadowRows,
          shadow.version(), s.version());
    }
    return new Result(date, record.version(), eventsVersion, commit.rowsWritten(), commit.version(), seconds,
        shadow == null ? null : shadow.version(), shadowRows);
  }

  /**
   * The model asked for (with a warning when it does not qualify for {@code date}), or the model that qualifies
   * for it ({@link ModelRegistry#modelFor}); logs which and why.
   */
  public static ModelRecord modelToScore(Warehouse warehouse, ModelStore store, ModelRegistry registry,
      Long modelVersion, LocalDate date) {
    if (modelVersion != null) {
      ModelRecord asked = store.get(modelVersion);
      if (!ModelRegistry.qualifiesFor(asked, date)) {
        LOG.warn("score {}: --model-version {} trained on days up to {} (its holdout), which are not all before {}:"
            + " its scores of this day are not point-in-time correct", date, modelVersion, asked.holdoutDate(), date);
      }
      return asked;
    }
    if (registry.champion().isEmpty()) {
      throw new JobFailedException("there is no champion model in " + warehouse.qualified(Table.MODEL_ALIASES)
          + ": no version has passed the gate yet. See `nightscore models list`; promote one with `models promote "
          + "V`, or score with --model-version V.");
    }
    ModelRegistry.PointInTime chosen = registry.modelFor(date, store).orElseThrow(() -> new JobFailedException(
        "no promoted or approved model qualifies for " + date + ": every one trained on days up to or after it "
        + "(a model qualifies when its training and holdout days are all before the day it scores). Score it with "
        + "--model-version V to accept that, or retrain for an earlier date."));
    LOG.info("score {}: model v{}: {}", date, chosen.model().version(), chosen.why());
    return chosen.model();
  }

  /** The newest version that has never been champion and is newer than {@code champion}. */
  static Optional<ModelRecord> newestChallenger(ModelStore store, ModelRegistry registry, long champion) {
    Optional<ModelRegistry.Alias> alias = registry.champion();
    List<ModelRegistry.Decision> decisions = registry.decisions();
    return store.all().stream()
        .filter(m -> m.version() > champion)
        .filter(m -> {
          ModelRegistry.Status s = ModelRegistry.status(m.version(), alias, decisions);
          return s == ModelRegistry.Status.CHALLENGER || s == ModelRegistry.Status.REJECTED;
        })
        .max(Comparator.comparingLong(ModelRecord::version));
  }

  /**
   * What stops a model from scoring these events: artifact files that differ from the registry's SHA-256,
   * a feature schema other than the one it was trained on, or event columns missing or of the wrong type.
   */
  public static List<String> problems(ModelStore store, ModelRecord record, EventSchema schema, StructType events) {
    List<String> problems = new ArrayList<>();
    for (String p : store.verify(record)) {
      problems.add("model v" + record.version() + " artifact " + p);
    }
    String expected = Digests.featureSchema(schema.features(),
        List.of(Features.types(schema, record.categoricalMode())), schema.categorical());
    if (!expected.equals(record.schemaSha256())) {
      problems.add("model v" + record.version() + " was trained on features " + record.features() + " (categorical "
          + record.categoricalFeatures() + ", schema SHA-256 " + record.schemaSha256() + ") but nightscore.schema now "
          + "names " + schema.features() + " (categorical " + schema.categorical() + ", " + expected
          + "); retrain, or score with the schema the model was trained on");
    }
    for (String f : record.features()) {
      Optional<StructField> field = java.util.Arrays.stream(events.fields()).filter(x -> x.name().equals(f)).findFirst();
      boolean categorical = record.categoricalFeatures().contains(f);
      if (field.isEmpty()) {
        problems.add("model v" + record.version() + " needs column '" + f + "', which the events table lacks");
      } else if (categorical && !field.get().dataType().equals(DataTypes.StringType)) {
        problems.add("column '" + f + "' is " + field.get().dataType().simpleString()
            + " in the events table; model v" + record.version() + " reads it as a categorical string");
      } else if (!categorical && !(field.get().dataType() instanceof org.apache.spark.sql.types.NumericType)) {
        problems.add("column '" + f + "' is " + field.get().dataType().simpleString()
            + " in the events table; model v" + record.version() + " reads it as a number");
      }
    }
    return problems;
  }
}
