package io.nightscore.tools.generate;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.date_add;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.date_format;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.log;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.regexp_replace;
import static org.apache.spark.sql.functions.timestamp_seconds;
import static org.apache.spark.sql.functions.to_timestamp;
import static org.apache.spark.sql.functions.unix_timestamp;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import io.nightscore.common.sql.SessionSettings;
import io.nightscore.common.sql.SqlSafety;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes synthetic raw events to {@code <output>/events/dt=<date>/} and their true conversion
 * probabilities to {@code <output>/truth/dt=<date>/} (Parquet: event_id, p_true), which training never reads.
 * With a label delay, the events come without labels and the conversions arrive in a feed,
 * {@code <output>/labels/dt=<arrival day>/} (CSV: event_id, event_time, converted = 1, conversion_time).
 */
public final class GenerateJob {
  private static final Logger LOG = LoggerFactory.getLogger(GenerateJob.class);
  private static final long SAMPLE_ROWS = 50_000;

  /**
   * {@code labelDelayDays}: 0 for labels in the events, else the attribution window of the conversions feed;
   * {@code drift}: null, or what changes from which day.
   */
  public record Options(LocalDate startDate, int days, long rowsPerDay, long seed, String output,
      String format, double baseRate, double dirtyRate, String world, int labelDelayDays, Drift drift) {
    public Options(LocalDate startDate, int days, long rowsPerDay, long seed, String output, String format,
        double baseRate, double dirtyRate) {
      this(startDate, days, rowsPerDay, seed, output, format, baseRate, dirtyRate, "default");
    }

    public Options(LocalDate startDate, int days, long rowsPerDay, long seed, String output, String format,
        double baseRate, double dirtyRate, String world) {
      this(startDate, days, rowsPerDay, seed, output, format, baseRate, dirtyRate, world, 0, null);
    }
  }

  /**
   * Drift of observed features from day {@code from} on (the true probability is unchanged): per feature,
   * {@code scale} (a numeric times 3), {@code mix} (half of a categorical's rows moved to its most frequent
   * value, the one ending in _1) or {@code new} (30% of a categorical's rows get a value never seen before).
   */
  public record Drift(LocalDate from, Map<String, String> changes) {
    static final java.util.Set<String> KINDS = java.util.Set.of("scale", "mix", "new");

    public static Drift parse(LocalDate from, List<String> specs) {
      Map<String, String> changes = new java.util.LinkedHashMap<>();
      for (String spec : specs) {
        String[] kv = spec.split("=", 2);
        if (kv.length != 2 || !KINDS.contains(kv[1].trim())) {
          throw new IllegalArgumentException("--drift takes FEATURE=KIND with KIND one of " + KINDS + ", got '"
              + spec + "'");
        }
        changes.put(kv[0].trim(), kv[1].trim());
      }
      return new Drift(from, changes);
    }
  }

  /** What generate wrote: rows, the intercept that sets the base rate, and where. */
  public record Result(long rows, int days, double intercept, String eventsPath, String truthPath) {
    /** The result line. */
    public String line() {
      return String.format(Locale.ROOT, "generate: rows=%d days=%d intercept=%.4f events=%s truth=%s", rows, days,
          intercept, eventsPath, truthPath);
    }
  }

  private GenerateJob() {}

  public static Result run(SparkSession spark, Options o) {
    check(o.days() >= 1, "--days must be >= 1, got %s", o.days());
    check(o.rowsPerDay() >= 1, "--rows-per-day must be >= 1, got %s", o.rowsPerDay());
    check(o.baseRate() > 0 && o.baseRate() < 0.5, "--base-rate must be in (0, 0.5), got %s", o.baseRate());
    check(o.dirtyRate() >= 0 && o.dirtyRate() < 1, "--dirty-rate must be in [0, 1), got %s", o.dirtyRate());
    String format = o.format().toLowerCase(Locale.ROOT);
    check(List.of("csv", "json", "parquet").contains(format), "--format must be csv, json or parquet, got '%s'",
        o.format());
    SqlSafety.checkPath(o.output(), "--output");
    check(o.labelDelayDays() >= 0 && o.labelDelayDays() <= 60, "--label-delay-days must be within [0, 60], got %s",
        o.labelDelayDays());

    World world = World.named(o.world(), o.seed());
    if (o.drift() != null) {
      o.drift().changes().forEach((f, kind) -> check(kind.equals("scale") ? world.numeric().contains(f)
          : world.categorical().contains(f), "--drift %s=%s: %s is not a %s feature of the %s world", f, kind, f,
          kind.equals("scale") ? "numeric" : "categorical", o.world()));
    }
    long startDay = o.startDate().toEpochDay();
    spark.sparkContext().setJobDescription("generate: fit the intercept to base rate " + o.baseRate());
    Dataset<Row> sample = spark.range(SAMPLE_ROWS)
        .select(lit(startDay).as("_day"), col("id").plus(1_000_000_000L).as("_rid"));
    double intercept = world.intercept(sample, o.baseRate());

    long total = o.rowsPerDay() * o.days();
    Dataset<Row> rows = spark.range(total).select(
        floor(col("id").divide(o.rowsPerDay())).plus(startDay).cast("long").as("_day"),
        pmod(col("id"), lit(o.rowsPerDay())).as("_rid"),
        date_add(lit(java.sql.Date.valueOf(o.startDate())), floor(col("id").divide(o.rowsPerDay())).cast("int"))
            .cast("string").as("dt"));
    Dataset<Row> events = drifted(world.events(rows, intercept, o.dirtyRate()), o.drift(), o.seed());

    // One pass computes every column into a staging table; raw files and truth are cut from it, so the
    // true probability is computed once and never inlined into the label expression twice.
    String staging = o.output() + "/staging";
    String eventsPath = o.output() + "/events";
    String truthPath = o.output() + "/truth";
    spark.sparkContext().setJobDescription("generate: compute " + total + " events");
    // The world is one wide projection whose generated code exceeds the JVM's 64 KB method limit;
    // skip whole-stage codegen for this write instead of failing to compile and falling back.
    SessionSettings.with(spark, "spark.sql.codegen.wholeStage", "false", () -> {
      events.write().mode(SaveMode.Overwrite).parquet(staging);
      return null;
    });
    try {
      Dataset<Row> staged = spark.read().parquet(staging);
      List<Column> raw = new ArrayList<>();
      for (String c : staged.columns()) {
        if (c.equals("converted") && o.labelDelayDays() > 0) {
          // The label arrives later; a corrupt one ("2") stays for ingest to quarantine.
          raw.add(when(col(c).equalTo("2"), col(c)).otherwise(lit(null).cast("string")).as(c));
        } else if (!c.equals("p_true") && !c.equals("_clean_id")) {
          raw.add(col(c));
        }
      }
      spark.sparkContext().setJobDescription("generate: write raw events");
      var writer = staged.select(raw.toArray(new Column[0])).write().mode(SaveMode.Overwrite).partitionBy("dt");
      switch (format) {
        case "csv" -> writer.option("header", "true").option("escape", "\"").csv(eventsPath); // RFC 4180 quotes
        case "json" -> writer.json(eventsPath);
        default -> writer.parquet(eventsPath);
      }
      if (o.labelDelayDays() > 0) {
        spark.sparkContext().setJobDescription("generate: write the conversions feed");
        conversions(staged, o.labelDelayDays(), o.seed()).write().mode(SaveMode.Overwrite).partitionBy("dt")
            .option("header", "true").csv(o.output() + "/labels");
      }
      spark.sparkContext().setJobDescription("generate: write true probabilities");
      staged.select(col("_clean_id").as("event_id"), col("p_true"), col("dt"))
          .write().mode(SaveMode.Overwrite).partitionBy("dt").parquet(truthPath);
    } finally {
      delete(spark, staging);
    }
    LOG.info("generate: {} days x {} rows from {} (seed {}, intercept {}) -> {}", o.days(), o.rowsPerDay(),
        o.startDate(), o.seed(), intercept, o.output());
    return new Result(total, o.days(), intercept, eventsPath, truthPath);
  }

  /** Uniform in (0, 1) from stream k of an event (by its clean id). */
  private static Column unit(long seed, int k) {
    return pmod(xxhash64(lit(seed), col("_clean_id"), lit(k)), lit(1L << 52)).plus(0.5).divide((double) (1L << 52));
  }

  /** The observed features changed by {@code drift} on its days. */
  static Dataset<Row> drifted(Dataset<Row> events, Drift drift, long seed) {
    if (drift == null) {
      return events;
    }
    Column on = col("dt").geq(lit(drift.from().toString()));
    Dataset<Row> out = events;
    for (Map.Entry<String, String> e : drift.changes().entrySet()) {
      Column v = col(e.getKey());
      Column changed = switch (e.getValue()) {
        case "scale" -> v.cast("double").multiply(3).cast("string");
        case "mix" -> when(unit(seed, 9001).lt(0.5), regexp_replace(v, "[0-9]+$", "1")).otherwise(v);
        default -> when(unit(seed, 9002).lt(0.3), lit(e.getKey() + "_new")).otherwise(v);
      };
      out = out.withColumn(e.getKey(), when(on, changed).otherwise(v));
    }
    return out;
  }

  /**
   * The conversions feed of the staged events: one row per positive, arriving after a delay that is
   * exponential (mean 6 hours) for 85% of them and uniform over the rest of the attribution window for the
   * others, never later than {@code window} days after the event's day.
   */
  static Dataset<Row> conversions(Dataset<Row> staged, int window, long seed) {
    Column eventSecond = unix_timestamp(col("event_time"));
    Column dayStart = unix_timestamp(to_timestamp(col("dt")));
    Column room = dayStart.plus((window + 1L) * 86_400L).minus(eventSecond).minus(1);
    Column delay = when(unit(seed, 9101).lt(0.85), least(log(unit(seed, 9102)).multiply(-6 * 3600.0), room))
        .otherwise(unit(seed, 9103).multiply(room));
    Column converted = eventSecond.plus(floor(delay)).cast("long");
    return staged.where(col("converted").equalTo("1").and(eventSecond.isNotNull()))
        .select(col("_clean_id").as("event_id"), col("event_time"), lit("1").as("converted"),
            date_format(timestamp_seconds(converted), "yyyy-MM-dd HH:mm:ss").as("conversion_time"),
            date_format(timestamp_seconds(converted), "yyyy-MM-dd").as("dt"));
  }

  private static void delete(SparkSession spark, String path) {
    try {
      org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(path);
      p.getFileSystem(spark.sparkContext().hadoopConfiguration()).delete(p, true);
    } catch (java.io.IOException e) {
      LOG.warn("could not delete staging folder {}: {}", path, e.toString());
    }
  }

  private static void check(boolean ok, String format, Object... args) {
    if (!ok) {
      throw new IllegalArgumentException(String.format(format, args));
    }
  }
}
