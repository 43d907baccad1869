package io.nightscore.tools.generate;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.cos;
import static org.apache.spark.sql.functions.date_format;
import static org.apache.spark.sql.functions.exp;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.log;
import static org.apache.spark.sql.functions.lpad;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.sqrt;
import static org.apache.spark.sql.functions.timestamp_seconds;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * A synthetic event world with a known true conversion probability per event: subclasses define the
 * features and the true log-odds ({@link #latent}); this class turns them into raw, partly corrupted log
 * rows. Randomness comes from hashing (seed, day, row, stream), so a seed gives the same events whatever
 * the partitioning. Built-in expressions only.
 */
public abstract class World {
  static final double TWO_PI = 2 * Math.PI;
  private static final long MANTISSA = 1L << 52;

  protected final long seed;

  protected World(long seed) {
    this.seed = seed;
  }

  /** The world called {@code name}: "default" (56 ad-impression features) or "criteo" (13 counts, 26 hashes). */
  public static World named(String name, long seed) {
    return switch (name) {
      case "default" -> new EventWorld(seed);
      case "criteo" -> new CriteoWorld(seed);
      default -> throw new IllegalArgumentException("--world must be 'default' or 'criteo', got '" + name + "'");
    };
  }

  /** Numeric feature names, in schema order. */
  public abstract List<String> numeric();

  /** Categorical feature names, in schema order. */
  public abstract List<String> categorical();

  /** The numeric column that dirty rows put text into, and the one they put infinity into. */
  abstract String textDirtyColumn();

  abstract String infinityDirtyColumn();

  /**
   * Every observed feature, {@code _hour} (the event's hour of day) and {@code _logit} (the true log-odds
   * minus the intercept) for rows that carry {@code _day} (days since epoch) and {@code _rid} (row number
   * within the day).
   */
  abstract Dataset<Row> latent(Dataset<Row> rows);

  /** The rows with every column of {@code cols} added, in order, and {@code _logit} = base + Σ effects. */
  static Dataset<Row> withLatent(Dataset<Row> rows, Map<String, Column> cols, Column base, List<Column> effects) {
    Column logit = base;
    for (Column e : effects) {
      logit = logit.plus(e);
    }
    Dataset<Row> out = rows;
    for (Map.Entry<String, Column> e : cols.entrySet()) {
      out = out.withColumn(e.getKey(), e.getValue());
    }
    return out.withColumn("_logit", logit);
  }

  /** Uniform in (0, 1) from stream k of this row. */
  Column u(int k) {
    Column h = xxhash64(lit(seed), col("_day"), col("_rid"), lit(k));
    return pmod(h, lit(MANTISSA)).plus(0.5).divide((double) MANTISSA);
  }

  /** Standard normal (Box-Muller) from streams k and k + 1000 of this row. */
  Column n(int k) {
    return sqrt(log(u(k)).multiply(-2)).multiply(cos(u(k + 1000).multiply(TWO_PI)));
  }

  /** A normal effect that depends only on the category (same every day). */
  Column categoryEffect(int feature, Column rank, double sigma) {
    Column h1 = pmod(xxhash64(lit(seed), lit(-1 - feature), rank, lit(1)), lit(MANTISSA)).plus(0.5)
        .divide((double) MANTISSA);
    Column h2 = pmod(xxhash64(lit(seed), lit(-1 - feature), rank, lit(2)), lit(MANTISSA)).plus(0.5)
        .divide((double) MANTISSA);
    return sqrt(log(h1).multiply(-2)).multiply(cos(h2.multiply(TWO_PI))).multiply(sigma);
  }

  static Column sigmoid(Column x) {
    return lit(1.0).divide(lit(1.0).plus(exp(x.multiply(-1))));
  }

  static Column nullIf(Column missing, Column value) {
    return when(missing, lit(null)).otherwise(value);
  }

  /**
   * The intercept that makes the mean true probability equal {@code baseRate}, found on a fixed
   * sample: one aggregate evaluates a grid of intercepts, then the answer is interpolated.
   */
  public double intercept(Dataset<Row> sample, double baseRate) {
    Dataset<Row> l = latent(sample).select("_logit");
    List<Double> grid = new ArrayList<>();
    for (double b = -12; b <= 2.0001; b += 0.05) {
      grid.add(b);
    }
    Column[] means = grid.stream()
        .map(b -> org.apache.spark.sql.functions.avg(sigmoid(col("_logit").plus(b))))
        .toArray(Column[]::new);
    Row r = l.agg(means[0], java.util.Arrays.copyOfRange(means, 1, means.length)).head();
    for (int i = 1; i < grid.size(); i++) {
      double lo = r.getDouble(i - 1);
      double hi = r.getDouble(i);
      if (lo <= baseRate && baseRate <= hi) {
        double t = (baseRate - lo) / (hi - lo);
        return grid.get(i - 1) + t * (grid.get(i) - grid.get(i - 1));
      }
    }
    throw new IllegalArgumentException("base rate " + baseRate + " is out of reach of this world");
  }

  /**
   * Raw events (all values as strings, as a log file has them) and their true probability for rows
   * with {@code _day} and {@code _rid}. A share {@code dirtyRate} of rows is corrupted the ways real feeds
   * are (bad label, empty id, text in a number, wrong day, duplicate id, infinity) so ingest's contract
   * checks have work to do; their true probability is still written.
   */
  public Dataset<Row> events(Dataset<Row> rows, double intercept, double dirtyRate) {
    Dataset<Row> w = latent(rows);
    Column p = sigmoid(col("_logit").plus(intercept));
    Column label = when(u(500).lt(p), lit("1")).otherwise(lit("0"));
    Column date = date_format(timestamp_seconds(col("_day").multiply(86400L)), "yyyyMMdd");
    Column id = concat(date, lpad(col("_rid").cast("string"), 9, "0"));
    Column second = col("_day").multiply(86400L).plus(col("_hour").multiply(3600))
        .plus(floor(u(501).multiply(3600)));
    Column time = date_format(timestamp_seconds(second), "yyyy-MM-dd HH:mm:ss");

    Column dirty = u(600).lt(dirtyRate);
    Column kind = floor(u(601).multiply(6));
    Column dupId = concat(date, lpad(greatest(col("_rid").minus(1), lit(0L)).cast("string"), 9, "0"));
    Column prevDay = date_format(timestamp_seconds(second.minus(86400L)), "yyyy-MM-dd HH:mm:ss");

    w = w.withColumn("_p", p)
        .withColumn("_clean_id", id)
        .withColumn("event_id", when(dirty.and(kind.equalTo(1)), lit(""))
            .when(dirty.and(kind.equalTo(4)), dupId).otherwise(id))
        .withColumn("event_time", when(dirty.and(kind.equalTo(3)), prevDay).otherwise(time))
        .withColumn("converted", when(dirty.and(kind.equalTo(0)), lit("2")).otherwise(label));
    List<Column> out = new ArrayList<>();
    out.add(col("event_id"));
    out.add(col("event_time"));
    out.add(col("converted"));
    for (String f : numeric()) {
      Column v = col(f).cast("string");
      if (f.equals(textDirtyColumn())) {
        v = when(dirty.and(kind.equalTo(2)), lit("n/a")).otherwise(v);
      } else if (f.equals(infinityDirtyColumn())) {
        v = when(dirty.and(kind.equalTo(5)), lit("Infinity")).otherwise(v);
      }
      out.add(v.as(f));
    }
    for (String f : categorical()) {
      out.add(col(f));
    }
    out.add(col("_p").as("p_true"));
    out.add(col("_clean_id"));
    if (List.of(rows.columns()).contains("dt")) {
      out.add(col("dt"));
    }
    return w.select(out.toArray(new Column[0]));
  }
}
