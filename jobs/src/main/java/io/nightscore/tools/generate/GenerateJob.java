package io.nightscore.tools.generate;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.date_add;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;

import io.nightscore.common.sql.SessionSettings;
import io.nightscore.common.sql.SqlSafety;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
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
 */
public final class GenerateJob {
  private static final Logger LOG = LoggerFactory.getLogger(GenerateJob.class);
  private static final long SAMPLE_ROWS = 50_000;

  public record Options(LocalDate startDate, int days, long rowsPerDay, long seed, String output,
      String format, double baseRate, double dirtyRate, String world) {
    public Options(LocalDate startDate, int days, long rowsPerDay, long seed, String output, String format,
        double baseRate, double dirtyRate) {
      this(startDate, days, rowsPerDay, seed, output, format, baseRate, dirtyRate, "default");
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

    World world = World.named(o.world(), o.seed());
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
    Dataset<Row> events = world.events(rows, intercept, o.dirtyRate());

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
        if (!c.equals("p_true") && !c.equals("_clean_id")) {
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
