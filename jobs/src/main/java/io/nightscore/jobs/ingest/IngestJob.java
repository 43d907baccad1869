package io.nightscore.jobs.ingest;

import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.input_file_name;
import static org.apache.spark.sql.functions.lit;

import io.nightscore.common.config.EventSchema;
import io.nightscore.common.config.Settings;
import io.nightscore.common.sql.JobFailedException;
import io.nightscore.common.sql.SessionSettings;
import io.nightscore.common.table.Table;
import io.nightscore.common.table.Warehouse;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Loads one day of raw events into {@code events}, and every row that breaks the contract into {@code quarantine}. */
public final class IngestJob {
  private static final Logger LOG = LoggerFactory.getLogger(IngestJob.class);

  /**
   * Spark compiles a stage into one method only up to this many columns (default 100) and runs wider ones row by
   * row in its interpreter. Ingest's checks carry every raw column beside its typed value (~120 columns for 56
   * features), so ingest plans its queries with a limit that fits them. Not raised for every job: the generator's
   * wide aggregate, compiled that way, fails in Spark 3.5 with an IllegalAccessError (a split class reading
   * BufferedRowIterator.partitionIndex).
   */
  static final String MAX_FIELDS = "spark.sql.codegen.maxFields";

  /** Raw file formats ingest reads. */
  public enum Format { CSV, JSON, PARQUET }

  public record Options(LocalDate date, String input, Format format) {}

  /**
   * What one ingest did.
   *
   * @param rowsIn           raw rows read
   * @param rowsWritten      rows written to events (0 when the day was refused)
   * @param rowsQuarantined  rows written to quarantine
   * @param reasons          quarantined rows per reason code
   * @param eventsVersion    events table version after the write (-1 when refused)
   */
  public record Result(LocalDate date, long rowsIn, long rowsWritten, long rowsQuarantined,
      Map<String, Long> reasons, long eventsVersion) {
    /** The result line scripts and the DAG parse. */
    public String line() {
      return String.format(Locale.ROOT, "ingest %s: rows_in=%d written=%d quarantined=%d reasons=%s events_version=%d",
          date, rowsIn, rowsWritten, rowsQuarantined, reasons, eventsVersion);
    }
  }

  private IngestJob() {}

  public static Result run(SparkSession spark, Settings settings, Options options) {
    Warehouse warehouse = new Warehouse(spark, settings);
    spark.sparkContext().setJobDescription("ingest " + options.date() + ": read " + options.input());

    Timestamp ingestedAt = Timestamp.from(Instant.now());
    try {
      Plans plans = plans(spark, settings, options, ingestedAt);
      return compiledUpTo(spark, plans.widest(), () -> write(warehouse, settings, options, plans));
    } catch (Exception e) { // Scala throws SparkException undeclared
      if (saysAnywhere(e, "exceeds the maximum number of characters")) {
        throw new JobFailedException("a CSV field in " + options.input() + " runs past " + maxFieldChars(settings)
            + " characters (100 x nightscore.ingest.max-value-length): most likely a quote opened and never "
            + "closed, which makes the rest of its file one field. Fix the file; nothing was written to "
            + warehouse.qualified(Table.EVENTS) + " for " + options.date() + ".", e);
      }
      throw e;
    }
  }

  /** The longest CSV field the reader takes before failing the day: far above what is quarantined as too long. */
  static int maxFieldChars(Settings settings) {
    return (int) Math.min(Integer.MAX_VALUE, 100L * settings.maxValueLength());
  }

  /** Whether {@code e} or one of its causes (the CSV parser's, under Spark's) says {@code text}. */
  private static boolean saysAnywhere(Throwable e, String text) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (String.valueOf(t.getMessage()).contains(text)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Runs {@code work} with queries of up to {@code columns} columns whole-stage compiled ({@link #MAX_FIELDS} raised
   * to that when lower), then puts the session's setting back as it was (set or unset).
   */
  static <T> T compiledUpTo(SparkSession spark, int columns, java.util.function.Supplier<T> work) {
    int current = Integer.parseInt(spark.conf().get(MAX_FIELDS));
    return SessionSettings.with(spark, MAX_FIELDS, String.valueOf(Math.max(current, columns)), work);
  }

  private static Result write(Warehouse warehouse, Settings settings, Options options, Plans plans) {
    SparkSession spark = warehouse.spark();
    LocalDate date = options.date();
    Dataset<Row> raw = plans.raw();

    spark.sparkContext().setJobDescription("ingest " + date + ": count raw rows");
    long rowsIn = raw.count();
    if (rowsIn == 0) {
      throw new JobFailedException("input " + options.input() + " has no rows for " + date
          + "; nothing was written. Check the path and --format.");
    }

    spark.sparkContext().setJobDescription("ingest " + date + ": write quarantine");
    Warehouse.Commit q = warehouse.overwriteDay(plans.quarantine(), Table.QUARANTINE, date);
    Map<String, Long> reasons = new TreeMap<>();
    for (Row r : warehouse.dayAt(Table.QUARANTINE, q.version(), date).groupBy("reason").agg(count(lit(1)))
        .collectAsList()) {
      reasons.put(r.getString(0), r.getLong(1));
    }
    long bad = reasons.values().stream().mapToLong(Long::longValue).sum();
    double share = (double) bad / rowsIn;
    if (share > settings.maxQuarantineShare()) {
      throw new JobFailedException(String.format(Locale.ROOT,
          "%d of %d rows (%.2f%%) for %s break the event contract, above "
              + "nightscore.ingest.max-quarantine-share = %.2f%%: %s. They are in %s (dt = %s); "
              + "nothing was written to %s for this date.",
          bad, rowsIn, 100 * share, date, 100 * settings.maxQuarantineShare(), reasons,
          warehouse.qualified(Table.QUARANTINE), date, warehouse.qualified(Table.EVENTS)));
    }

    spark.sparkContext().setJobDescription("ingest " + date + ": write events");
    // The raw count travels with the commit, so `check` can prove rows in = written + quarantined later.
    Warehouse.Commit e = warehouse.overwriteDay(plans.events(), Table.EVENTS, date, ingestMetadata(date, rowsIn, bad,
        options));
    if (e.rowsWritten() >= 0 && q.rowsWritten() >= 0 && e.rowsWritten() + q.rowsWritten() != rowsIn) {
      throw new IllegalStateException(String.format(Locale.ROOT,
          "row accounting broke for %s: %d read but %d written + %d quarantined (input changed while "
              + "ingesting?); rerun ingest for this date", date, rowsIn, e.rowsWritten(), q.rowsWritten()));
    }
    LOG.info("ingest {}: {} rows in, {} written (events v{}), {} quarantined {}", date, rowsIn,
        e.rowsWritten(), e.version(), bad, reasons);
    return new Result(date, rowsIn, e.rowsWritten(), bad, reasons, e.version());
  }

  /**
   * The dataframes one ingest writes, before anything runs: the raw rows (with their source file), the
   * rows for {@code events} and the rows for {@code quarantine}; {@code widest}: the columns of the judged rows
   * both come from. Fails when the input lacks a contract column.
   */
  public record Plans(Dataset<Row> raw, Dataset<Row> events, Dataset<Row> quarantine, int widest) {}

  public static Plans plans(SparkSession spark, Settings settings, Options options, Timestamp ingestedAt) {
    EventSchema schema = settings.schema();
    Dataset<Row> raw = readWithSource(spark, settings, options, "input");
    List<String> missing = IngestRules.missingColumns(raw, schema);
    if (!missing.isEmpty()) {
      throw new JobFailedException("input " + options.input() + " lacks the column(s) " + missing
          + " that nightscore.schema names; found " + List.of(raw.columns())
          + ". Fix the input or nightscore.schema.*; nothing was written.");
    }
    Dataset<Row> validated = IngestRules.validate(raw, schema, options.date(), settings.maxValueLength(),
        !settings.delayedLabels());
    return new Plans(raw, IngestRules.events(validated, schema, options.date(), ingestedAt),
        IngestRules.quarantine(validated, schema, options.date(), settings.maxValueLength(), ingestedAt),
        validated.columns().length);
  }

  /**
   * The commit metadata of a day's events write: the raw row count (so `check` can prove rows in = written +
   * quarantined later) and where the rows came from (so `gpu-check` can plan the same ingest).
   */
  static java.util.Map<String, Object> ingestMetadata(LocalDate date, long rowsIn, long quarantined,
      Options options) {
    java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("job", "ingest");
    m.put("dt", date.toString());
    m.put("rows_in", rowsIn);
    m.put("quarantined", quarantined);
    m.put("input", options.input());
    m.put("format", options.format().name().toLowerCase(Locale.ROOT));
    return m;
  }

  /**
   * {@link #read} with each row's source file, refusing input that cannot be read (a missing path, a day folder
   * with no files, files with no header or record to read columns from) with a clear error; {@code what} names
   * the input in it.
   */
  static Dataset<Row> readWithSource(SparkSession spark, Settings settings, Options options, String what) {
    try {
      return read(spark, settings, options).withColumn(IngestRules.SOURCE_FILE, input_file_name());
    } catch (Exception e) {
      if (!(e instanceof org.apache.spark.sql.AnalysisException a)) {
        throw e;
      }
      throw new JobFailedException("cannot read " + options.format().name().toLowerCase(Locale.ROOT) + " " + what
          + " " + options.input() + " for " + options.date() + ": " + a.getSimpleMessage() + "; nothing was written.");
    }
  }

  /**
   * Raw files as the format reads them; CSV values stay text so no bad value is lost to a parse. CSV is read
   * as RFC 4180 writes it: a quote inside a quoted field is doubled and a quoted field may hold line breaks
   * (so Spark reads each CSV file in one task); lines end in LF or CRLF, mixed in one file if need be. Read
   * line by line instead, a quoted line break would cut its record into a short valid row and a malformed one.
   */
  static Dataset<Row> read(SparkSession spark, Settings settings, Options options) {
    return switch (options.format()) {
      case CSV -> {
        // With LF as the separator a CRLF line leaves its CR at the end of an unquoted last field, removed below.
        // A field may be at most maxFieldChars long: a quote that is never closed swallows the lines after it
        // into one field, and the read fails there (see run) instead of holding the rest of a file in memory.
        org.apache.spark.sql.DataFrameReader csv = spark.read().option("header", "true")
            .option("escape", settings.csvEscape()).option("multiLine", true).option("lineSep", "\n")
            .option("maxCharsPerColumn", maxFieldChars(settings));
        // The header's columns, all text, plus one that keeps a line of the wrong number of fields whole
        // (Spark's permissive reader would otherwise fill the missing fields with nulls and drop the extra).
        // A byte-order mark before the header is not part of the first column's name, nor a CRLF's CR of the last.
        StructType header = new StructType();
        for (org.apache.spark.sql.types.StructField f : csv.option("inferSchema", "false").csv(options.input())
            .schema().fields()) {
          header = header.add(f.name().replace("\uFEFF", "").replaceAll("\r$", ""), DataTypes.StringType, true);
        }
        Dataset<Row> rows = csv.option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", IngestRules.MALFORMED)
            .schema(header.add(IngestRules.MALFORMED, DataTypes.StringType, true)).csv(options.input());
        if (header.isEmpty()) {
          yield rows; // no header: refused for its missing columns
        }
        String last = header.fieldNames()[header.size() - 1];
        // rtrim with a literal (not a regular expression): the RAPIDS Accelerator runs it on the GPU.
        yield rows.withColumn(last, org.apache.spark.sql.functions.rtrim(
            org.apache.spark.sql.functions.col("`" + last.replace("`", "``") + "`"), "\r"));
      }
      case JSON -> spark.read().option("mode", "PERMISSIVE").option("primitivesAsString", "true")
          .option("columnNameOfCorruptRecord", IngestRules.MALFORMED).json(options.input());
      case PARQUET -> spark.read().parquet(options.input());
    };
  }
}
