package io.nightscore.model.quality;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.exp;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nightscore.testing.SparkTestBase;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

class CalibrationTest extends SparkTestBase {

  /**
   * Rows with log-odds z spread over [-7, 1], labels drawn from sigmoid(a z + b) by hashing (seeded), and a
   * raw probability sigmoid(z) that is miscalibrated unless a = 1 and b = 0.
   */
  static Dataset<Row> world(long rows, double a, double b) {
    var u = pmod(xxhash64(lit(11L), col("id")), lit(1L << 40)).divide((double) (1L << 40));
    var z = lit(-7.0).plus(pmod(col("id").multiply(7919L), lit(10_000L)).divide(10_000.0).multiply(8.0));
    var truth = lit(1.0).divide(lit(1.0).plus(exp(z.multiply(-a).minus(b))));
    return spark.range(rows).select(
        lit(1.0).divide(lit(1.0).plus(exp(z.multiply(-1)))).as("raw"),
        when(u.lt(truth), lit(1)).otherwise(lit(0)).as("y"),
        truth.as("truth"));
  }

  static double[] apply(Calibration c, double... raws) {
    Dataset<Row> in = spark.createDataset(java.util.Arrays.stream(raws).boxed().toList(),
        org.apache.spark.sql.Encoders.DOUBLE()).toDF("raw");
    return in.select(c.apply(col("raw"))).collectAsList().stream().mapToDouble(r -> r.getDouble(0)).toArray();
  }

  @Test
  void negativeSamplingCorrectionIsExact() {
    double w = 0.1;
    double[] raw = {0.001, 0.05, 0.5, 0.9};
    double[] q = apply(new Calibration("none", w, new double[0]), raw);
    for (int i = 0; i < raw.length; i++) {
      double p = raw[i];
      assertEquals(p / (p + (1 - p) / w), q[i], 1e-12, "q = p / (p + (1 - p) / w) at p = " + p);
    }
    assertEquals(0.3, apply(new Calibration("none", 1.0, new double[0]), 0.3)[0], 1e-12, "rate 1 changes nothing");
  }

  @Test
  void plattRecoversTheTrueMapAndFixesCalibration() {
    Dataset<Row> d = world(200_000, 0.8, -1.0).cache();
    Calibration c = Calibration.fit("platt", 1.0, d, "y", "raw");
    assertThat(c.params()[0]).as("slope").isCloseTo(0.8, org.assertj.core.data.Offset.offset(0.05));
    assertThat(c.params()[1]).as("intercept").isCloseTo(-1.0, org.assertj.core.data.Offset.offset(0.15));
    BinaryMetrics before = BinaryMetrics.compute(d, "y", "raw");
    BinaryMetrics after = BinaryMetrics.compute(d.withColumn("p", c.apply(col("raw"))), "y", "p");
    assertThat(before.calibrationRatio()).as("the raw scores are miscalibrated").isGreaterThan(1.5);
    assertThat(after.calibrationRatio()).isCloseTo(1.0, org.assertj.core.data.Offset.offset(0.03));
    assertEquals(before.auc(), after.auc(), 1e-9, "a monotone map keeps the ranking");
    assertThat(after.logLoss()).isLessThan(before.logLoss());
    d.unpersist();
  }

  @Test
  void isotonicIsMonotoneAndCalibratedOnItsData() {
    Dataset<Row> d = world(100_000, 1.3, 0.5).cache();
    Calibration c = Calibration.fit("isotonic", 1.0, d, "y", "raw");
    double[] out = apply(c, 0.0005, 0.002, 0.01, 0.05, 0.2, 0.6);
    for (int i = 1; i < out.length; i++) {
      assertThat(out[i]).as("monotone in the raw probability").isGreaterThanOrEqualTo(out[i - 1]);
    }
    BinaryMetrics after = BinaryMetrics.compute(d.withColumn("p", c.apply(col("raw"))), "y", "p");
    assertThat(after.calibrationRatio()).isCloseTo(1.0, org.assertj.core.data.Offset.offset(0.03));
    assertThat(c.params()).hasSize(Calibration.GRID + 2);
    d.unpersist();
  }

  /**
   * The scored rows reach the fitter once: calibration's input is a query that predicts with the booster, and
   * Spark's logistic regression reads its input twice (isotonic regression reads it several times, caching an
   * uncached input itself).
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"platt", "isotonic"})
  void scoresItsInputOnce(String method) {
    org.apache.spark.util.LongAccumulator scored = spark.sparkContext().longAccumulator("scored rows");
    org.apache.spark.sql.expressions.UserDefinedFunction score = org.apache.spark.sql.functions.udf(
        (Double raw) -> {
          scored.add(1);
          return raw;
        }, org.apache.spark.sql.types.DataTypes.DoubleType).asNondeterministic();
    Dataset<Row> d = world(20_000, 0.8, -1.0).withColumn("raw", score.apply(col("raw")));
    Calibration.fit(method, 1.0, d, "y", "raw");
    assertEquals(20_000, scored.value(), "rows scored while fitting " + method);
    assertThat(spark.sparkContext().getPersistentRDDs().size()).as("nothing left cached").isZero();
  }

  @Test
  void interpolationFollowsSparksIsotonicRule() {
    double[] x = {0, 1, 3};
    double[] y = {0.1, 0.2, 0.6};
    assertEquals(0.1, Calibration.interpolate(x, y, -5), 1e-12, "constant below the first boundary");
    assertEquals(0.15, Calibration.interpolate(x, y, 0.5), 1e-12);
    assertEquals(0.4, Calibration.interpolate(x, y, 2), 1e-12);
    assertEquals(0.6, Calibration.interpolate(x, y, 9), 1e-12, "constant above the last boundary");
  }

  @Test
  void refusesUnknownMethodsAndRates() {
    assertThatThrownBy(() -> new Calibration("beta", 1.0, new double[0]))
        .hasMessageContaining("one of " + Calibration.METHODS).hasMessageContaining("'beta'");
    assertThatThrownBy(() -> new Calibration("none", 0.0, new double[0])).hasMessageContaining("(0, 1]");
    assertThat(List.of("platt", "isotonic", "none")).containsExactlyElementsOf(Calibration.METHODS);
  }
}
