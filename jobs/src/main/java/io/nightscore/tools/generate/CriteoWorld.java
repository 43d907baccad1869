package io.nightscore.tools.generate;

import static org.apache.spark.sql.functions.exp;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.hex;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.log1p;
import static org.apache.spark.sql.functions.lower;
import static org.apache.spark.sql.functions.lpad;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.pow;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * A world shaped like the Criteo display-advertising logs and deliberately unlike {@link EventWorld}, so
 * nightscore's defaults can be checked on data they were not designed on: 13 anonymous integer counts
 * (I1..I13, heavy-tailed, often missing) and 26 hashed categoricals (C1..C26, 8 hex digits, from 3 to
 * 10^6 values with a steeper popularity head), no time features, a pairwise interaction of two
 * categoricals, a threshold and a non-monotone count effect. Use it with {@code conf/criteo.conf}.
 */
public final class CriteoWorld extends World {
  /** Cardinality and effect s.d. of C1..C26 (effect 0 = the feature is noise). */
  private static final int[] CARDINALITY = {1460, 583, 1_000_000, 200_000, 305, 24, 12_517, 633, 3, 93_145,
      5_683, 1_000_000, 3_194, 27, 14_992, 500_000, 10, 5_652, 2_173, 4, 700_000, 18, 15, 100_000, 105, 100_000};
  private static final double[] SIGMA = {0.4, 0.3, 0.5, 0.3, 0.2, 0.3, 0.3, 0.1, 0.2, 0.4, 0.2, 0.0, 0.2, 0.3,
      0.0, 0.3, 0.2, 0.0, 0.1, 0.2, 0.0, 0.1, 0.3, 0.0, 0.2, 0.0};
  private static final double[] CAT_MISSING = {0.0, 0.0, 0.03, 0.03, 0.0, 0.12, 0.0, 0.0, 0.0, 0.0, 0.0, 0.03,
      0.0, 0.0, 0.0, 0.03, 0.0, 0.0, 0.44, 0.44, 0.03, 0.0, 0.0, 0.03, 0.44, 0.44};
  private static final double[] INT_MISSING = {0.45, 0.0, 0.21, 0.22, 0.03, 0.22, 0.04, 0.0, 0.04, 0.45, 0.04,
      0.76, 0.22};

  public CriteoWorld(long seed) {
    super(seed);
  }

  @Override
  public List<String> numeric() {
    return IntStream.rangeClosed(1, 13).mapToObj(i -> "I" + i).toList();
  }

  @Override
  public List<String> categorical() {
    return IntStream.rangeClosed(1, 26).mapToObj(i -> "C" + i).toList();
  }

  @Override
  String textDirtyColumn() {
    return "I2";
  }

  @Override
  String infinityDirtyColumn() {
    return "I9";
  }

  private Column hashed(int feature, Column rank) {
    return lower(lpad(hex(pmod(xxhash64(lit(seed), lit(7_000 + feature), rank), lit(1L << 32))), 8, "0"));
  }

  @Override
  Dataset<Row> latent(Dataset<Row> rows) {
    Map<String, Column> cols = new LinkedHashMap<>();
    Column user = n(1);
    Column engagement = n(2);
    // Event hour (for the timestamp only: the Criteo-like contract has no time features).
    cols.put("_hour", pmod(floor(lit(13).plus(n(3).multiply(5))), lit(24)));
    List<Column> ints = new ArrayList<>();
    for (int i = 0; i < 13; i++) {
      // Counts: log-normal around a per-feature level; half of them track engagement or the user.
      Column driver = i % 3 == 0 ? engagement : i % 3 == 1 ? user.multiply(0.7) : lit(0.0);
      Column count = floor(exp(lit(0.3 * (i % 5)).plus(driver).plus(n(10 + i).multiply(1.0 + 0.1 * i))));
      ints.add(count);
      cols.put("I" + (i + 1), nullIf(u(40 + i).lt(INT_MISSING[i]), count));
    }
    List<Column> effects = new ArrayList<>();
    List<Column> ranks = new ArrayList<>();
    for (int j = 0; j < 26; j++) {
      // A steeper head than the default world: rank = card * u^3.
      Column rank = least(floor(pow(u(100 + j), 3).multiply(CARDINALITY[j])).cast("long"),
          lit((long) CARDINALITY[j] - 1));
      ranks.add(rank);
      if (SIGMA[j] > 0) {
        effects.add(categoryEffect(j, rank, SIGMA[j]));
      }
      cols.put("C" + (j + 1), nullIf(u(150 + j).lt(CAT_MISSING[j]), hashed(j, rank)));
    }
    Column pair = categoryEffect(99, ranks.get(0).multiply(1_000_003L).plus(ranks.get(4)), 0.35);
    Column logit = user.multiply(0.6)
        .plus(log1p(ints.get(0)).multiply(0.25))
        .minus(log1p(ints.get(4)).minus(2).multiply(log1p(ints.get(4)).minus(2)).multiply(0.15))
        .plus(when(ints.get(6).gt(10), lit(0.4)).otherwise(lit(0.0)))
        .minus(log1p(ints.get(9)).multiply(0.1))
        .plus(pair);
    return withLatent(rows, cols, logit, effects);
  }
}
