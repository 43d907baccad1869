package io.nightscore.jobs.ops;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.isnan;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.nightscore.common.config.Settings;
import io.nightscore.common.registry.ModelRegistry;
import io.nightscore.common.sql.JobFailedException;
import io.nightscore.common.table.Table;
import io.nightscore.common.table.Warehouse;
import java.sql.Date;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The invariants of one finished day, checked with aggregates: every raw row was ingested or quarantined,
 * every ingested event was scored once, every score is a probability, there is a champion, and monitor recorded
 * no alert for the day. Records them in {@code check_results} and fails (exit 1) naming every broken invariant.
 */
public final class CheckJob {
  private static final Logger LOG = LoggerFactory.getLogger(CheckJob.class);

  /**
   * One invariant: its stable id ({@code check_results.check_id}, what queries key on), its name as people read
   * it, whether it held, the count it expected and found (null where none), and why.
   */
  public record Check(String id, String name, boolean ok, Long expected, Long actual, String detail) {}

  /** The ids of the invariants, as {@code check_results.check_id} holds them. */
  public static final String RAW_ROWS = "raw_rows_accounted";
  public static final String SCORED = "scored_equals_ingested";
  public static final String SCORES_VALID = "scores_valid";
  public static final String CHAMPION = "champion_exists";
  public static final String NO_ALERT = "no_monitor_alert";

  /** The {@code check_results} table's columns: one row per day and invariant. */
  public static final StructType RESULTS_SCHEMA = new StructType()
      .add("invariant", DataTypes.StringType, false)
      .add("check_id", DataTypes.StringType, true)
      .add("expected", DataTypes.LongType, true)
      .add("actual", DataTypes.LongType, true)
      .add("passed", DataTypes.BooleanType, false)
      .add("detail", DataTypes.StringType, true)
      .add("checked_at", DataTypes.TimestampType, false)
      .add("dt", DataTypes.DateType, false);

  public record Result(LocalDate date, List<Check> checks) {
    public boolean passed() {
      return checks.stream().allMatch(Check::ok);
    }

    /** One line per invariant, then "passed" when all held. */
    public List<String> lines() {
      List<String> out = new java.util.ArrayList<>(checks.stream().map(c -> String.format(Locale.ROOT,
          "check %s: %s %s (%s)", date, c.ok() ? "ok  " : "FAIL", c.name(), c.detail())).toList());
      if (passed()) {
        out.add("check " + date + ": passed");
      }
      return out;
    }

    /** Fails the job (exit 1) naming every broken invariant. */
    public void requirePassed() {
      if (!passed()) {
        throw new JobFailedException(date + " breaks " + checks.stream().filter(c -> !c.ok())
            .map(c -> c.name() + " (" + c.detail() + ")").toList());
      }
    }
  }

  private CheckJob() {}

  public static Result run(SparkSession spark, Settings settings, LocalDate date) {
    Warehouse warehouse = new Warehouse(spark, settings);
    for (Table t : new Table[] {Table.EVENTS, Table.SCORES}) {
      if (!warehouse.exists(t)) {
        throw new JobFailedException(warehouse.qualified(t) + " does not exist: nothing to check for " + date);
      }
    }
    List<Check> checks = new ArrayList<>();
    spark.sparkContext().setJobDescription("check " + date);

    long events = warehouse.day(Table.EVENTS, date).count();
    long quarantined = warehouse.exists(Table.QUARANTINE)
        ? warehouse.day(Table.QUARANTINE, date).count() : 0;
    Long rowsIn = rawRows(warehouse, date);
    checks.add(new Check(RAW_ROWS, "rows ingested + quarantined = raw rows",
        rowsIn != null && events + quarantined == rowsIn, rowsIn, events + quarantined,
        rowsIn == null ? "no ingest commit for " + date + " in " + warehouse.qualified(Table.EVENTS)
            : String.format(Locale.ROOT, "%d + %d vs %d raw", events, quarantined, rowsIn)));

    Row s = warehouse.day(Table.SCORES, date).agg(count(lit(1)),
        sum(when(col("score").isNull().or(isnan(col("score"))).or(col("score").lt(0)).or(col("score").gt(1)), 1)
            .otherwise(0))).head();
    long scored = s.getLong(0);
    long bad = s.isNullAt(1) ? 0 : s.getLong(1);
    checks.add(new Check(SCORED, "scored rows = ingested rows", scored == events && events > 0, events, scored,
        String.format(Locale.ROOT, "%d scored vs %d ingested", scored, events)));
    checks.add(new Check(SCORES_VALID, "scores within [0, 1], not NaN or null", bad == 0, 0L, bad,
        bad + " bad scores"));

    Long champion = new ModelRegistry(warehouse).champion().map(ModelRegistry.Alias::version).orElse(null);
    checks.add(new Check(CHAMPION, "a champion model exists", champion != null, 1L, champion == null ? 0L : 1L,
        champion == null ? "no champion in " + warehouse.qualified(Table.MODEL_ALIASES) : "champion v" + champion));

    checks.add(monitorAlerts(warehouse, date));
    Result result = new Result(date, checks);
    checks.forEach(c -> LOG.info("check {}: {} {} ({})", date, c.ok() ? "ok  " : "FAIL", c.name(), c.detail()));
    record(warehouse, result);
    return result;
  }

  /** Replaces the day's rows of {@code check_results}, so "which nights broke an invariant?" is a query. */
  static void record(Warehouse warehouse, Result result) {
    Timestamp at = Timestamp.from(Instant.now());
    List<Row> rows = result.checks().stream().map(c -> RowFactory.create(c.name(), c.id(), c.expected(), c.actual(), c.ok(),
        c.detail(), at, Date.valueOf(result.date()))).toList();
    warehouse.overwriteDay(warehouse.spark().createDataFrame(rows, RESULTS_SCHEMA), Table.CHECK_RESULTS,
        result.date());
  }

  /** The raw row count the latest ingest of {@code date} recorded in its events commit. */
  static Long rawRows(Warehouse warehouse, LocalDate date) {
    Object rows = warehouse.dayMetadata(Table.EVENTS, date).map(m -> m.get("rows_in")).orElse(null);
    return rows instanceof Number n ? n.longValue() : null;
  }

  /**
   * The alerts monitor recorded for the day: drift of the day's inputs and scores, and the realized quality of the
   * days whose labels matured on it (an old alert does not fail every later night). Passes when monitor did not run.
   */
  static Check monitorAlerts(Warehouse warehouse, LocalDate date) {
    Date day = Date.valueOf(date);
    List<String> alerts = new ArrayList<>();
    boolean ran = false;
    if (warehouse.exists(Table.MONITOR_DRIFT)) {
      Dataset<Row> drift = warehouse.day(Table.MONITOR_DRIFT, date);
      ran = !drift.isEmpty();
      for (Row r : drift.where(col("status").equalTo("alert")).orderBy("feature").select("feature", "psi")
          .collectAsList()) {
        alerts.add(String.format(Locale.ROOT, "drift of %s: PSI %.3f", r.getString(0), r.getDouble(1)));
      }
    }
    if (warehouse.exists(Table.MONITOR_QUALITY)) {
      Dataset<Row> quality = warehouse.read(Table.MONITOR_QUALITY).where(col("run_date").equalTo(lit(day)));
      ran = ran || !quality.isEmpty();
      for (Row r : quality.where(col("status").equalTo("alert")).orderBy("dt", "model_version", "scorer")
          .select("dt", "model_version", "scorer", "detail").collectAsList()) {
        alerts.add(String.format(Locale.ROOT, "realized quality of %s, v%d (%s): %s", r.getDate(0), r.getLong(1),
            r.getString(2), r.getString(3)));
      }
    }
    return new Check(NO_ALERT, "no monitoring alert for the day", alerts.isEmpty(), 0L, (long) alerts.size(),
        !ran ? "monitor has not run for " + date : alerts.isEmpty() ? "none" : String.join("; ", alerts));
  }
}
