package io.nightscore.jobs.ingest;

import static org.apache.spark.sql.functions.abs;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.isnan;
import static org.apache.spark.sql.functions.length;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.to_date;
import static org.apache.spark.sql.functions.to_json;
import static org.apache.spark.sql.functions.trim;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import io.nightscore.common.config.EventSchema;
import java.sql.Timestamp;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StringType;

/**
 * The event contract as pure transforms: every raw row gets either typed values or the first reason
 * it breaks the contract, so each row ends in {@code events} or in {@code quarantine}, never nowhere.
 */
public final class IngestRules {
  /** Column with the reason code of a rejected row (null for a valid row). */
  public static final String REASON = "_reason";
  /** Column with the numeric field that was not a (finite) number, when that is the reason. */
  public static final String BAD_FIELD = "_bad_field";
  public static final String SOURCE_FILE = "_source_file";
  /** Column the CSV and JSON readers fill with a line that does not parse into the header's fields. */
  public static final String MALFORMED = "_malformed_line";

  /** Why a raw row was quarantined, in the order the rules are checked. */
  public enum Reason {
    MALFORMED_ROW, INVALID_ENCODING, VALUE_TOO_LONG, MISSING_ID, MISSING_TIME, BAD_TIME, MISSING_LABEL, BAD_LABEL,
    NON_NUMERIC, NON_FINITE, OUT_OF_RANGE, WRONG_DATE, DUPLICATE_ID
  }

  /** What a decoder puts where input bytes were not valid in the file's encoding (UTF-8 by default). */
  static final String REPLACEMENT_CHARACTER = "\uFFFD";

  private IngestRules() {}

  /** Names of schema columns missing from the raw input (the job refuses such input whole). */
  public static List<String> missingColumns(Dataset<Row> raw, EventSchema schema) {
    List<String> have = new ArrayList<>();
    for (String c : raw.columns()) {
      have.add(c.toLowerCase(java.util.Locale.ROOT));
    }
    return schema.allColumns().stream()
        .filter(c -> !have.contains(c.toLowerCase(java.util.Locale.ROOT)))
        .toList();
  }

  /** Trimmed text of a raw value, null when absent or blank. */
  private static Column text(Dataset<Row> raw, String name) {
    Column t = trim(col(name).cast("string"));
    return when(t.equalTo(""), lit(null)).otherwise(t);
  }

  /** A raw value as double; null when absent or not a number (whatever spark.sql.ansi.enabled says). */
  private static Column number(Dataset<Row> raw, String name) {
    boolean isText = raw.schema().apply(name).dataType() instanceof StringType;
    return isText ? parse(raw, name, "double") : col(name).cast("double");
  }

  /**
   * Trimmed text cast to {@code type}, null when it does not parse. Without ANSI mode (Spark's default) a
   * plain cast already gives null, and the RAPIDS Accelerator runs it on the GPU; try_cast, which ANSI mode
   * needs for the same result, it cannot.
   */
  private static Column parse(Dataset<Row> raw, String name, String type) {
    boolean ansi = Boolean.parseBoolean(raw.sparkSession().conf().get("spark.sql.ansi.enabled", "false"));
    return ansi ? expr("try_cast(trim(`" + name + "`) AS " + type.toUpperCase(java.util.Locale.ROOT) + ")")
        : trim(col(name)).cast(type);
  }

  private static String typed(String column) {
    return "_v_" + column;
  }

  /**
   * Adds typed values ({@code _v_<column>}), {@link #REASON} and {@link #BAD_FIELD} to a raw day, keeping
   * the raw columns. The reason is the first broken rule, in the order of {@link Reason}; a value longer
   * than {@code maxValueLength} characters breaks {@link Reason#VALUE_TOO_LONG}; duplicates are
   * judged among rows that pass every other rule, keeping the earliest event (ties broken by a hash of
   * the raw values, so a rerun keeps the same row). Built in narrow steps: one wide expression would
   * exceed the JVM's method size in generated code and run interpreted.
   */
  public static Dataset<Row> validate(Dataset<Row> raw, EventSchema schema, LocalDate date, int maxValueLength) {
    return validate(raw, schema, date, maxValueLength, true);
  }

  /**
   * As {@link #validate(Dataset, EventSchema, LocalDate, int)}; with {@code labelRequired} false (labels that arrive
   * later) an empty label is valid and the event is ingested unlabelled, while a label that is there must be 0 or 1.
   */
  public static Dataset<Row> validate(Dataset<Row> raw, EventSchema schema, LocalDate date, int maxValueLength,
      boolean labelRequired) {
    List<Column> step1 = new ArrayList<>();
    for (String c : raw.columns()) {
      step1.add(col(c));
    }
    step1.add(text(raw, schema.id()).as(typed(schema.id())));
    step1.add(time(raw, schema).as(typed(schema.time())));
    step1.add(number(raw, schema.label()).as(typed(schema.label())));
    for (String f : schema.numeric()) {
      step1.add(number(raw, f).as(typed(f)));
    }
    for (String f : schema.categorical()) {
      step1.add(text(raw, f).as(typed(f)));
    }
    Dataset<Row> values = raw.select(step1.toArray(new Column[0]));

    List<Column> badEncoding = new ArrayList<>();
    List<Column> tooLong = new ArrayList<>();
    for (String c : schema.allColumns()) {
      Column value = col(c).cast("string");
      badEncoding.add(when(value.contains(REPLACEMENT_CHARACTER), lit(c)));
      tooLong.add(when(length(value).gt(maxValueLength), lit(c)));
    }
    List<Column> nonNumeric = new ArrayList<>();
    List<Column> nonFinite = new ArrayList<>();
    List<Column> outOfRange = new ArrayList<>();
    for (String f : schema.numeric()) {
      Column v = col(typed(f));
      nonNumeric.add(when(v.isNull().and(text(raw, f).isNotNull()), lit(f)));
      nonFinite.add(when(isnan(v).or(v.equalTo(Double.POSITIVE_INFINITY))
          .or(v.equalTo(Double.NEGATIVE_INFINITY)), lit(f)));
      // Finite as a double but not as the 32-bit float XGBoost reads: it would train and score as infinite.
      outOfRange.add(when(abs(v).gt(Float.MAX_VALUE), lit(f)));
    }
    Dataset<Row> fields = values
        .withColumn("_bad_encoding", first(badEncoding))
        .withColumn("_too_long", first(tooLong))
        .withColumn("_non_numeric", first(nonNumeric))
        .withColumn("_non_finite", first(nonFinite))
        .withColumn("_out_of_range", first(outOfRange));

    Column id = col(typed(schema.id()));
    Column time = col(typed(schema.time()));
    Column label = col(typed(schema.label()));
    // A line with fewer or more fields than the header (or JSON that does not parse) comes first: its values
    // may sit in the wrong columns or be missing, so no other check of it means anything.
    Column malformed = List.of(raw.columns()).contains(MALFORMED) ? col(MALFORMED).isNotNull() : lit(false);
    Column reason = when(malformed, lit(Reason.MALFORMED_ROW.name()))
        .when(col("_bad_encoding").isNotNull(), lit(Reason.INVALID_ENCODING.name()))
        .when(col("_too_long").isNotNull(), lit(Reason.VALUE_TOO_LONG.name()))
        .when(id.isNull(), lit(Reason.MISSING_ID.name()))
        .when(text(raw, schema.time()).isNull(), lit(Reason.MISSING_TIME.name()))
        .when(time.isNull(), lit(Reason.BAD_TIME.name()))
        .when(text(raw, schema.label()).isNull().and(lit(labelRequired)), lit(Reason.MISSING_LABEL.name()))
        .when(text(raw, schema.label()).isNotNull().and(label.isNull().or(label.notEqual(0.0)
            .and(label.notEqual(1.0)))), lit(Reason.BAD_LABEL.name()))
        .when(col("_non_numeric").isNotNull(), lit(Reason.NON_NUMERIC.name()))
        .when(col("_non_finite").isNotNull(), lit(Reason.NON_FINITE.name()))
        .when(col("_out_of_range").isNotNull(), lit(Reason.OUT_OF_RANGE.name()))
        .when(to_date(time).notEqual(lit(java.sql.Date.valueOf(date))), lit(Reason.WRONG_DATE.name()));
    Column[] rawText = schema.allColumns().stream().map(c -> col(c).cast("string")).toArray(Column[]::new);
    Dataset<Row> checked = fields
        .withColumn(REASON, reason)
        .withColumn(BAD_FIELD, coalesce(col("_bad_encoding"), col("_too_long"), col("_non_numeric"),
            col("_non_finite"), col("_out_of_range")))
        .withColumn("_tiebreak", xxhash64(rawText))
        .drop("_bad_encoding", "_too_long", "_non_numeric", "_non_finite", "_out_of_range");

    // Among otherwise valid rows, the second and later occurrence of an id is a duplicate.
    Column seq = row_number().over(Window.partitionBy(col(REASON).isNull(), id)
        .orderBy(time, col("_tiebreak")));
    return checked
        .withColumn(REASON, when(col(REASON).isNull().and(seq.gt(1)), lit(Reason.DUPLICATE_ID.name()))
            .otherwise(col(REASON)))
        .drop("_tiebreak");
  }

  /** The first non-null of {@code fields} (the name of the first field breaking a rule), null when none. */
  private static Column first(List<Column> fields) {
    return fields.isEmpty() ? lit(null).cast("string") : coalesce(fields.toArray(new Column[0]));
  }

  /** Why a quarantined row was refused, in words, naming the field, its value and the expectation. */
  static Column detail(EventSchema schema, LocalDate date, int maxValueLength, String... validatedColumns) {
    Column idText = trim(col(schema.id()).cast("string"));
    Column timeText = trim(col(schema.time()).cast("string"));
    Column labelText = trim(col(schema.label()).cast("string"));
    Column badValue = null;
    for (String f : schema.allColumns()) {
      badValue = badValue == null ? when(col(BAD_FIELD).equalTo(f), col(f).cast("string"))
          : badValue.when(col(BAD_FIELD).equalTo(f), col(f).cast("string"));
    }
    Column r = col(REASON);
    Column line = List.of(validatedColumns).contains(MALFORMED) ? col(MALFORMED) : lit(null).cast("string");
    return when(r.equalTo(Reason.MALFORMED_ROW.name()), concat(lit("the line does not parse into the header's "
        + schema.allColumns().size() + "+ fields (too few or too many, or broken quoting): '"),
        org.apache.spark.sql.functions.substring(line, 1, 300), lit("'")))
        .when(r.equalTo(Reason.INVALID_ENCODING.name()), concat(col(BAD_FIELD), lit(" '"),
            org.apache.spark.sql.functions.substring(badValue, 1, 100), lit("' holds bytes that are not valid UTF-8 "
                + "(shown as " + REPLACEMENT_CHARACTER + ")")))
        .when(r.equalTo(Reason.VALUE_TOO_LONG.name()), concat(col(BAD_FIELD), lit(" is "),
            length(badValue).cast("string"), lit(" characters long, over nightscore.ingest.max-value-length = "
                + maxValueLength + ": '"), org.apache.spark.sql.functions.substring(badValue, 1, 50), lit("...'")))
        .when(r.equalTo(Reason.MISSING_ID.name()), lit(schema.id() + " is missing or empty"))
        .when(r.equalTo(Reason.MISSING_TIME.name()), lit(schema.time() + " is missing or empty"))
        .when(r.equalTo(Reason.BAD_TIME.name()), concat(lit(schema.time() + " '"), timeText,
            lit("' is not a timestamp (expected yyyy-MM-dd HH:mm:ss)")))
        .when(r.equalTo(Reason.MISSING_LABEL.name()), lit(schema.label() + " is missing or empty"))
        .when(r.equalTo(Reason.BAD_LABEL.name()), concat(lit(schema.label() + " '"), labelText,
            lit("' is not 0 or 1")))
        .when(r.equalTo(Reason.NON_NUMERIC.name()), concat(col(BAD_FIELD), lit(" '"), badValue,
            lit("' is not a number")))
        .when(r.equalTo(Reason.NON_FINITE.name()), concat(col(BAD_FIELD), lit(" '"), badValue,
            lit("' is not a finite number")))
        .when(r.equalTo(Reason.OUT_OF_RANGE.name()), concat(col(BAD_FIELD), lit(" '"), badValue,
            lit("' is beyond the range of a 32-bit float (about 3.4e38), the type XGBoost reads")))
        .when(r.equalTo(Reason.WRONG_DATE.name()), concat(lit("event date "),
            to_date(col(typed(schema.time()))).cast("string"),
            lit(" differs from --date " + date + " (" + schema.time() + " "), timeText, lit(")")))
        .when(r.equalTo(Reason.DUPLICATE_ID.name()), concat(lit(schema.id() + " '"), idText,
            lit("' already seen earlier this day")));
  }

  private static Column time(Dataset<Row> raw, EventSchema schema) {
    boolean timeIsText = raw.schema().apply(schema.time()).dataType() instanceof StringType;
    return timeIsText
        ? parse(raw, schema.time(), "timestamp")
        : col(schema.time()).cast("timestamp");
  }

  /** Valid rows as {@code events} rows: the schema's typed columns, {@code dt} and {@code ingested_at}. */
  public static Dataset<Row> events(Dataset<Row> validated, EventSchema schema, LocalDate date,
      Timestamp ingestedAt) {
    List<Column> out = new ArrayList<>();
    out.add(col(typed(schema.id())).as(schema.id()));
    out.add(col(typed(schema.time())).as(schema.time()));
    out.add(col(typed(schema.label())).cast("int").as(schema.label()));
    for (String f : schema.numeric()) {
      out.add(col(typed(f)).as(f));
    }
    for (String f : schema.categorical()) {
      out.add(col(typed(f)).as(f));
    }
    out.add(lit(java.sql.Date.valueOf(date)).as("dt"));
    out.add(lit(ingestedAt).as("ingested_at"));
    return validated.where(col(REASON).isNull()).select(out.toArray(new Column[0]));
  }

  /** Rejected rows as {@code quarantine} rows: date, reason, detail, raw values, source file, time. */
  public static Dataset<Row> quarantine(Dataset<Row> validated, EventSchema schema, LocalDate date,
      int maxValueLength, Timestamp ingestedAt) {
    Column[] rawStrings = schema.allColumns().stream()
        .map(c -> col(c).cast("string").as(c)).toArray(Column[]::new);
    return validated.where(col(REASON).isNotNull()).select(
        lit(java.sql.Date.valueOf(date)).as("dt"),
        col(REASON).as("reason"),
        detail(schema, date, maxValueLength, validated.columns()).as("detail"),
        to_json(struct(rawStrings), Map.of("ignoreNullFields", "false")).as("raw"),
        (List.of(validated.columns()).contains(SOURCE_FILE) ? col(SOURCE_FILE) : lit(null))
            .cast(DataTypes.StringType).as("source_file"),
        lit(ingestedAt).as("ingested_at"));
  }

}
