package io.nightscore.common.table;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.when;

import io.nightscore.common.config.EventSchema;
import io.nightscore.common.config.Settings;
import java.time.LocalDate;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The label of an event as a run on one date sees it: the label that came with the event, or one the
 * {@code labels} table received for it (the larger wins: a feed of conversions turns an unlabelled or negative
 * event positive), and, once the event's day is mature ({@code day + mature-after-days <= run date - 1}), a
 * negative for an event that received no positive. With {@code mature-after-days = 0} labels come with the events
 * and this changes nothing. The {@code labels} table is read at one version, recorded by whoever trains on it.
 */
public final class Labels {
  private final EventSchema schema;
  private final int matureAfterDays;
  private final LocalDate runDate;
  private final Dataset<Row> feed;
  private final long version;

  private Labels(EventSchema schema, int matureAfterDays, LocalDate runDate, Dataset<Row> feed, long version) {
    this.schema = schema;
    this.matureAfterDays = matureAfterDays;
    this.runDate = runDate;
    this.feed = feed;
    this.version = version;
  }

  /** The labels a run for {@code runDate} sees: the {@code labels} table at its newest version, if any. */
  public static Labels asOf(Warehouse warehouse, Settings settings, LocalDate runDate) {
    EventSchema schema = settings.schema();
    if (!settings.delayedLabels() || !warehouse.exists(Table.LABELS)) {
      return new Labels(schema, settings.labelsMatureAfterDays(), runDate, null, -1);
    }
    long version = warehouse.latestVersion(Table.LABELS);
    Dataset<Row> feed = warehouse.readAt(Table.LABELS, version)
        .groupBy(col("dt").as("_l_dt"), col(schema.id()).as("_l_id"))
        .agg(max(col(schema.label())).cast("int").as("_l_label"));
    return new Labels(schema, settings.labelsMatureAfterDays(), runDate, feed, version);
  }

  /** The {@code labels} table version read, -1 when none was (labels with the events, or no labels yet). */
  public long version() {
    return version;
  }

  /** The newest day whose labels are final on the run date. */
  public LocalDate lastMatureDay() {
    return runDate.minusDays(1L + matureAfterDays);
  }

  public boolean isMature(LocalDate day) {
    return !day.isAfter(lastMatureDay());
  }

  /**
   * {@code rows} (with {@code dt}, the id and the label column) with the label column replaced by the label the
   * run sees; null for an event of a day not yet mature that received no label. Columns keep their order.
   */
  public Dataset<Row> apply(Dataset<Row> rows) {
    if (matureAfterDays == 0) {
      return rows;
    }
    Column inline = col(schema.label()).cast("int");
    Dataset<Row> joined;
    Column effective;
    if (feed == null) {
      joined = rows;
      effective = inline;
    } else {
      joined = rows.join(feed, rows.col("dt").equalTo(feed.col("_l_dt"))
          .and(rows.col(schema.id()).equalTo(feed.col("_l_id"))), "left");
      effective = greatest(inline, col("_l_label"));
    }
    Column mature = col("dt").leq(lit(java.sql.Date.valueOf(lastMatureDay())));
    Dataset<Row> out = joined.withColumn(schema.label(),
        when(mature, coalesce(effective, lit(0))).otherwise(effective));
    return feed == null ? out : out.drop("_l_dt", "_l_id", "_l_label");
  }
}
