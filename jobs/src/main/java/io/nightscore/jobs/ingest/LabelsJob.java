package io.nightscore.jobs.ingest;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.date_add;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.map_from_arrays;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.to_date;
import static org.apache.spark.sql.functions.to_json;
import static org.apache.spark.sql.functions.trim;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import io.nightscore.common.config.EventSchema;
import io.nightscore.common.config.Settings;
import io.nightscore.common.sql.JobFailedException;
import io.nightscore.common.table.Table;
import io.nightscore.common.table.Warehouse;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the labels that arrived on one day into {@code labels} (partitioned by the arrival day), and every label
 * row that breaks the contract into {@code label_quarantine}. A label row names its event by the event's id and
 * time (or date) and carries the label (1, or 0 for an explicit negative); other columns are kept as text in
 * {@code extra}. Rerunning a day replaces that day's arrival, so the same file twice changes nothing.
 */
public final class LabelsJob {
  private static final Logger LOG = LoggerFactory.getLogger(LabelsJob.class);

  /** Why a label row was quarantined, in the order the rules are checked. */
  public enum Reason {
    MALFORMED_ROW, MISSING_ID, MISSING_TIME, BAD_TIME, MISSING_LABEL, BAD_LABEL, ARRIVED_BEFORE_EVENT, LATE_LABEL,
    UNKNOWN_EVENT, CONFLICTING_LABEL, DUPLICATE_LABEL
  }

  public record Options(LocalDate arrived, String input, IngestJob.Format format) {}

  public record Result(LocalDate arrived, long rowsIn, long rowsWritten, long rowsQuarantined,
      Map<String, Long> reasons, long labelsVersion) {
    /** The result line scripts and the DAG parse. */
    public String line() {
      return String.format(Locale.ROOT, "ingest-labels %s: rows_in=%d written=%d quarantined=%d reasons=%s "
          + "labels_version=%d", arrived, rowsIn, rowsWritten, rowsQuarantined, reasons, labelsVersion);
    }
  }

  private LabelsJob() {}

  public static Result run(SparkSession spark, Settings settings, Options options) {
    EventSchema schema = settings.schema();
    Warehouse warehouse = new Warehouse(spark, settings);
    LocalDate arrived = options.arrived();
    if (!settings.delayedLabels()) {
      throw new JobFailedException("nightscore.labels.mature-after-days is 0: labels come with the events and "
          + "ingest-labels has nothing to do. Set it to the attribution window (days after an event its label may "
          + "still arrive) to ingest labels separately; nothing was written.");
    }
    if (!warehouse.exists(Table.EVENTS)) {
      throw new JobFailedException(warehouse.qualified(Table.EVENTS) + " does not exist yet: ingest the events "
          + "before their labels; nothing was written.");
    }
    spark.sparkContext().setJobDescription("ingest-labels " + arrived + ": read " + options.input());
    Dataset<Row> raw = IngestJob.readWithSource(spark, settings,
        new IngestJob.Options(arrived, options.input(), options.format()), "labels");
    List<String> have = new ArrayList<>();
    for (String c : raw.columns()) {
      have.add(c.toLowerCase(Locale.ROOT));
    }
    List<String> missing = List.of(schema.id(), schema.time(), schema.label()).stream()
        .filter(c -> !have.contains(c.toLowerCase(Locale.ROOT))).toList();
    if (!missing.isEmpty()) {
      throw new JobFailedException("labels " + options.input() + " lack the column(s) " + missing + " (the event's "
          + "id, its time or date, and the label, as nightscore.schema names them); found " + List.of(raw.columns())
          + ". Nothing was written.");
    }
    Timestamp ingestedAt = Timestamp.from(Instant.now());
    Dataset<Row> judged = judge(raw, warehouse, settings, arrived).cache();
    try {
      spark.sparkContext().setJobDescription("ingest-labels " + arrived + ": count rows");
      long rowsIn = judged.count();
      if (rowsIn == 0) {
        throw new JobFailedException("labels " + options.input() + " have no rows for " + arrived
            + "; nothing was written. A day without conversions still needs its (header-only) file.");
      }
      spark.sparkContext().setJobDescription("ingest-labels " + arrived + ": write label quarantine");
      Warehouse.Commit q = warehouse.overwriteDay(quarantine(judged, schema, arrived, ingestedAt),
          Table.LABEL_QUARANTINE, arrived);
      Map<String, Long> reasons = new TreeMap<>();
      for (Row r : judged.where(col(IngestRules.REASON).isNotNull()).groupBy(IngestRules.REASON).agg(count(lit(1)))
          .collectAsList()) {
        reasons.put(r.getString(0), r.getLong(1));
      }
      long bad = reasons.values().stream().mapToLong(Long::longValue).sum();
      spark.sparkContext().setJobDescription("ingest-labels " + arrived + ": write labels");
      Map<String, Object> metadata = new java.util.LinkedHashMap<>();
      metadata.put("job", "ingest-labels");
      metadata.put("arrived", arrived.toString());
      metadata.put("rows_in", rowsIn);
      metadata.put("quarantined", bad);
      metadata.put("input", options.input());
      Warehouse.Commit w = warehouse.overwriteDay(labels(judged, schema, arrived, ingestedAt), Table.LABELS, arrived,
          metadata);
      if (w.rowsWritten() >= 0 && q.rowsWritten() >= 0 && w.rowsWritten() + q.rowsWritten() != rowsIn) {
        throw new IllegalStateException(String.format(Locale.ROOT, "row accounting broke for labels of %s: %d read "
            + "but %d written + %d quarantined (input changed while ingesting?); rerun ingest-labels", arrived, rowsIn,
            w.rowsWritten(), q.rowsWritten()));
      }
      LOG.info("ingest-labels {}: {} rows in, {} written (labels v{}), {} quarantined {}", arrived, rowsIn,
          rowsIn - bad, w.version(), bad, reasons);
      return new Result(arrived, rowsIn, rowsIn - bad, bad, reasons, w.version());
    } finally {
      judged.unpersist();
    }
  }

  /**
   * The raw label rows with typed {@code _dt}, {@code _id}, {@code _time}, {@code _label} and {@link IngestRules#REASON}
   * (null for a valid row): the first rule broken, in the order of {@link Reason}.
   */
  static Dataset<Row> judge(Dataset<Row> raw, Warehouse warehouse, Settings settings, LocalDate arrived) {
    EventSchema schema = settings.schema();
    int window = settings.labelsMatureAfterDays();
    Column idText = blankToNull(trim(col(q(schema.id())).cast("string")));
    Column timeText = blankToNull(trim(col(q(schema.time())).cast("string")));
    Column labelText = blankToNull(trim(col(q(schema.label())).cast("string")));
    Dataset<Row> typed = raw
        .withColumn("_id", idText)
        .withColumn("_time", timeText.cast("timestamp"))
        .withColumn("_label", labelText.cast("double"))
        .withColumn("_dt", to_date(col("_time")))
        .withColumn("_tiebreak", xxhash64(raw.columns().length == 0 ? lit(0) : to_json(struct(
            java.util.Arrays.stream(raw.columns()).filter(c -> !c.equals(IngestRules.SOURCE_FILE))
                .map(c -> col(q(c))).toArray(Column[]::new)))));
    Column malformed = List.of(raw.columns()).contains(IngestRules.MALFORMED)
        ? col(IngestRules.MALFORMED).isNotNull() : lit(false);
    java.sql.Date day = java.sql.Date.valueOf(arrived);
    Column basic = when(malformed, lit(Reason.MALFORMED_ROW.name()))
        .when(col("_id").isNull(), lit(Reason.MISSING_ID.name()))
        .when(timeText.isNull(), lit(Reason.MISSING_TIME.name()))
        .when(col("_time").isNull(), lit(Reason.BAD_TIME.name()))
        .when(labelText.isNull(), lit(Reason.MISSING_LABEL.name()))
        .when(col("_label").isNull().or(col("_label").notEqual(0.0).and(col("_label").notEqual(1.0))),
            lit(Reason.BAD_LABEL.name()))
        .when(col("_dt").gt(lit(day)), lit(Reason.ARRIVED_BEFORE_EVENT.name()))
        .when(date_add(col("_dt"), window).lt(lit(day)), lit(Reason.LATE_LABEL.name()));
    Dataset<Row> checked = typed.withColumn(IngestRules.REASON, basic);

    // The events the labels may belong to: the days whose labels can still arrive today.
    Dataset<Row> events = warehouse.read(Table.EVENTS)
        .where(col("dt").geq(lit(java.sql.Date.valueOf(arrived.minusDays(window)))).and(col("dt").leq(lit(day))))
        .select(col("dt").as("_e_dt"), col(q(schema.id())).as("_e_id")).distinct();
    Dataset<Row> known = checked.join(events, col("_dt").equalTo(col("_e_dt")).and(col("_id").equalTo(col("_e_id"))),
        "left");
    // Labels of the same events that arrived on other days (a rerun of this day replaces its own).
    Dataset<Row> earlier = warehouse.exists(Table.LABELS)
        ? warehouse.read(Table.LABELS).where(col("arrived").notEqual(lit(day))
            .and(col("dt").geq(lit(java.sql.Date.valueOf(arrived.minusDays(window))))))
            .groupBy(col("dt").as("_p_dt"), col(q(schema.id())).as("_p_id"))
            .agg(org.apache.spark.sql.functions.min(col(q(schema.label()))).as("_p_min"),
                org.apache.spark.sql.functions.max(col(q(schema.label()))).as("_p_max"))
        : null;
    Dataset<Row> withEarlier = earlier == null
        ? known.withColumn("_p_min", lit(null).cast("int")).withColumn("_p_max", lit(null).cast("int"))
        : known.join(earlier, col("_dt").equalTo(col("_p_dt")).and(col("_id").equalTo(col("_p_id"))), "left")
            .drop("_p_dt", "_p_id");
    Column valid = col(IngestRules.REASON).isNull();
    org.apache.spark.sql.expressions.WindowSpec sameEvent = Window.partitionBy(valid, col("_dt"), col("_id"));
    Column labelsOfEvent = org.apache.spark.sql.functions.size(org.apache.spark.sql.functions.collect_set("_label")
        .over(sameEvent));
    Column seq = row_number().over(sameEvent.orderBy(col("_tiebreak")));
    Column reason = when(valid.and(col("_e_id").isNull()), lit(Reason.UNKNOWN_EVENT.name()))
        .when(valid.and(labelsOfEvent.gt(1)
            .or(col("_p_min").isNotNull().and(col("_p_min").notEqual(col("_label")).or(col("_p_max")
                .notEqual(col("_label")))))), lit(Reason.CONFLICTING_LABEL.name()))
        .when(valid.and(seq.gt(1).or(col("_p_min").isNotNull())), lit(Reason.DUPLICATE_LABEL.name()))
        .otherwise(col(IngestRules.REASON));
    return withEarlier.withColumn(IngestRules.REASON, reason).drop("_e_dt", "_e_id", "_tiebreak");
  }

  private static Column blankToNull(Column text) {
    return when(text.equalTo(""), lit(null)).otherwise(text);
  }

  /** Valid label rows as {@code labels} rows. */
  static Dataset<Row> labels(Dataset<Row> judged, EventSchema schema, LocalDate arrived, Timestamp ingestedAt) {
    List<String> extra = java.util.Arrays.stream(judged.columns()).filter(c -> !c.startsWith("_")
        && !List.of(schema.id(), schema.time(), schema.label()).contains(c)).toList();
    Column extraMap = extra.isEmpty() ? lit(null).cast("map<string,string>")
        : map_from_arrays(org.apache.spark.sql.functions.array(extra.stream().map(org.apache.spark.sql.functions::lit)
            .toArray(Column[]::new)), org.apache.spark.sql.functions.array(extra.stream()
            .map(c -> col(q(c)).cast("string")).toArray(Column[]::new)));
    return judged.where(col(IngestRules.REASON).isNull()).select(
        col("_dt").as("dt"), col("_id").as(schema.id()), col("_time").as(schema.time()),
        col("_label").cast("int").as(schema.label()), lit(java.sql.Date.valueOf(arrived)).as("arrived"),
        extraMap.as("extra"), col(IngestRules.SOURCE_FILE).as("source_file"), lit(ingestedAt).as("ingested_at"));
  }

  /** Rejected label rows as {@code label_quarantine} rows, with the reason in words. */
  static Dataset<Row> quarantine(Dataset<Row> judged, EventSchema schema, LocalDate arrived, Timestamp ingestedAt) {
    String[] rawColumns = java.util.Arrays.stream(judged.columns()).filter(c -> !c.startsWith("_")).toArray(String[]::new);
    Column r = col(IngestRules.REASON);
    Column idText = coalesce(col("_id"), lit(""));
    Column eventDay = col("_dt").cast("string");
    Column detail = when(r.equalTo(Reason.MALFORMED_ROW.name()), concat(lit("the line does not parse into the "
        + "header's fields: '"), org.apache.spark.sql.functions.substring(col(IngestRules.MALFORMED), 1, 300), lit("'")))
        .when(r.equalTo(Reason.MISSING_ID.name()), lit(schema.id() + " is missing or empty"))
        .when(r.equalTo(Reason.MISSING_TIME.name()), lit(schema.time() + " is missing or empty"))
        .when(r.equalTo(Reason.BAD_TIME.name()), concat(lit(schema.time() + " '"), col(q(schema.time())).cast("string"),
            lit("' is not a timestamp or date (expected yyyy-MM-dd HH:mm:ss or yyyy-MM-dd)")))
        .when(r.equalTo(Reason.MISSING_LABEL.name()), lit(schema.label() + " is missing or empty"))
        .when(r.equalTo(Reason.BAD_LABEL.name()), concat(lit(schema.label() + " '"),
            col(q(schema.label())).cast("string"), lit("' is not 0 or 1")))
        .when(r.equalTo(Reason.ARRIVED_BEFORE_EVENT.name()), concat(lit("event day "), eventDay,
            lit(" is after the arrival day " + arrived)))
        .when(r.equalTo(Reason.LATE_LABEL.name()), concat(lit("event day "), eventDay, lit(" is more than "
            + "nightscore.labels.mature-after-days before the arrival day " + arrived + ": its labels were final")))
        .when(r.equalTo(Reason.UNKNOWN_EVENT.name()), concat(lit("no event " + schema.id() + " '"), idText,
            lit("' on "), eventDay, lit(" in events (never ingested, or quarantined)")))
        .when(r.equalTo(Reason.CONFLICTING_LABEL.name()), concat(lit(schema.id() + " '"), idText, lit("' on "),
            eventDay, lit(" has different labels (in this arrival or an earlier one)")))
        .when(r.equalTo(Reason.DUPLICATE_LABEL.name()), concat(lit(schema.id() + " '"), idText, lit("' on "),
            eventDay, lit(" already has this label (in this arrival or an earlier one)")));
    return judged.where(r.isNotNull()).select(
        lit(java.sql.Date.valueOf(arrived)).as("arrived"), r.as("reason"), detail.as("detail"),
        to_json(struct(java.util.Arrays.stream(rawColumns).map(c -> col(q(c)).cast("string").as(c))
            .toArray(Column[]::new)), Map.of("ignoreNullFields", "false")).as("raw"),
        col(IngestRules.SOURCE_FILE).cast("string").as("source_file"), lit(ingestedAt).as("ingested_at"));
  }

  private static String q(String column) {
    return "`" + column.replace("`", "``") + "`";
  }
}
