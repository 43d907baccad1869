package io.nightscore.jobs.score;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.nightscore.common.DevicePreflight;
import io.nightscore.common.EventSchema;
import io.nightscore.common.ModelRecord;
import io.nightscore.common.ModelStore;
import io.nightscore.common.Settings;
import io.nightscore.common.Table;
import io.nightscore.common.Warehouse;
import io.nightscore.jobs.JobFailedException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Scores the events of {@code --date D} with the newest model into {@code scores}, replacing exactly that day. */
public final class ScoreJob {
  private static final Logger LOG = LoggerFactory.getLogger(ScoreJob.class);

  public record Options(LocalDate date) {}

  public record Result(LocalDate date, long modelVersion, long eventsVersion, long rowsScored, long scoresVersion,
      double seconds) {}

  private ScoreJob() {}

  public static Result run(SparkSession spark, Settings settings, Options options) {
    EventSchema schema = settings.schema();
    Warehouse warehouse = new Warehouse(spark, settings);
    LocalDate date = options.date();
    JobFailedException.unless(DevicePreflight.problem(settings.xgboost().device(), spark.sparkContext().getConf()));
    ModelStore store = new ModelStore(warehouse);
    ModelRecord record;
    try {
      record = store.latest();
    } catch (IllegalStateException e) {
      throw new JobFailedException(e.getMessage());
    }
    if (!record.features().equals(schema.features())) {
      throw new JobFailedException("model v" + record.version() + " was trained on features "
          + record.features() + " but nightscore.schema now names " + schema.features()
          + "; retrain, or score with the schema the model was trained on. Nothing was written.");
    }
    if (!warehouse.exists(Table.EVENTS)) {
      throw new JobFailedException(warehouse.qualified(Table.EVENTS) + " does not exist: ingest " + date + " first");
    }
    long eventsVersion = warehouse.latestVersion(Table.EVENTS);
    ModelStore.LoadedModel loaded = store.load(record);
    Dataset<Row> events = warehouse.readAt(Table.EVENTS, eventsVersion)
        .where(col("dt").equalTo(lit(java.sql.Date.valueOf(date))));

    spark.sparkContext().setJobDescription("score " + date + " with model v" + record.version());
    long t0 = System.nanoTime();
    Dataset<Row> scores = Scoring.scoreDay(loaded, events, schema, date, Timestamp.from(Instant.now()));
    Warehouse.Commit commit = warehouse.overwriteDay(scores, Table.SCORES, date);
    double seconds = (System.nanoTime() - t0) / 1e9;
    if (commit.rowsWritten() == 0) {
      LOG.warn("score {}: {} has no events for this date (version {}); the day now has no scores", date,
          warehouse.qualified(Table.EVENTS), eventsVersion);
    }
    LOG.info("score {}: {} rows with model v{} (events v{}) in {}s -> scores v{}", date, commit.rowsWritten(),
        record.version(), eventsVersion, String.format("%.1f", seconds), commit.version());
    return new Result(date, record.version(), eventsVersion, commit.rowsWritten(), commit.version(), seconds);
  }
}
