package io.nightscore.model.train;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.xxhash64;

import io.nightscore.common.config.EventSchema;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** Seeded, partitioning-independent row selection by hashing (seed, stream, dt, id). */
public final class Sampling {
  private static final long MANTISSA = 1L << 52;
  private static final int SPLIT_STREAM = 1;
  private static final int NEGATIVE_STREAM = 2;
  private static final int FOLD_STREAM = 3;

  private Sampling() {}

  private static Column unit(long seed, int stream, Column id) {
    Column h = xxhash64(lit(seed), lit(stream), col("dt"), id);
    return pmod(h, lit(MANTISSA)).plus(0.5).divide((double) MANTISSA);
  }

  /** A uniform number in (0, 1) per event that picks the holdout day's tuning half. */
  public static Column unit(long seed, Column id) {
    return unit(seed, SPLIT_STREAM, id);
  }

  /** The fold in [0, folds) of each event, for out-of-fold target statistics. */
  public static Column fold(long seed, Column id, int folds) {
    return pmod(xxhash64(lit(seed), lit(FOLD_STREAM), col("dt"), id), lit(folds)).cast("int");
  }

  /** Every positive and a seeded share {@code rate} of the negatives (all rows when rate is 1). */
  public static Dataset<Row> negatives(Dataset<Row> events, EventSchema schema, double rate, long seed) {
    if (rate >= 1) {
      return events;
    }
    return events.where(col(schema.label()).equalTo(1).or(unit(seed, NEGATIVE_STREAM, col(schema.id())).lt(rate)));
  }
}
