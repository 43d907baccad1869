package io.nightscore.model.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nightscore.testing.SparkTestBase;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

public class BinaryMetricsTest extends SparkTestBase {

  public static Dataset<Row> scored(double[][] rows) {
    StructType schema = new StructType().add("y", DataTypes.IntegerType).add("p", DataTypes.DoubleType);
    return spark.createDataFrame(java.util.Arrays.stream(rows)
        .map(r -> RowFactory.create((int) r[0], r[1])).toList(), schema);
  }

  @Test
  void matchesHandComputedValues() {
    // AUC: positives 0.8, 0.4; negatives 0.6, 0.2, 0.1 -> pairs won: 3 + 2 = 5 of 6.
    double[][] rows = {{1, 0.8}, {1, 0.4}, {0, 0.6}, {0, 0.2}, {0, 0.1}};
    BinaryMetrics m = BinaryMetrics.compute(scored(rows), "y", "p");
    double ll = -(Math.log(0.8) + Math.log(0.4) + Math.log(0.4) + Math.log(0.8) + Math.log(0.9)) / 5;
    assertEquals(5, m.rows());
    assertEquals(2, m.positives());
    assertEquals(5.0 / 6, m.auc(), 1e-12, "AUC counts 5 of 6 positive-negative pairs in order");
    assertEquals(ll, m.logLoss(), 1e-12, "mean negative log-likelihood");
    assertEquals(2.1 / 5, m.meanScore(), 1e-12);
    assertEquals(0.4, m.rate(), 1e-12);
    assertEquals(2.1 / 2, m.calibrationRatio(), 1e-12, "sum predicted / sum actual");
  }

  @Test
  void clipsCertainWrongPredictionsInsteadOfReturningInfinity() {
    BinaryMetrics m = BinaryMetrics.compute(scored(new double[][] {{1, 0.0}, {0, 0.5}}), "y", "p");
    assertTrue(Double.isFinite(m.logLoss()));
    assertEquals((-Math.log(1e-15) - Math.log(0.5)) / 2, m.logLoss(), 1e-9);
  }

  @Test
  void aucIsUndefinedWithOneClass() {
    BinaryMetrics m = BinaryMetrics.compute(scored(new double[][] {{0, 0.1}, {0, 0.2}}), "y", "p");
    assertTrue(Double.isNaN(m.auc()));
    assertTrue(Double.isNaN(m.calibrationRatio()));
  }

  @Test
  void emptyInputGivesZeroRows() {
    BinaryMetrics m = BinaryMetrics.compute(scored(new double[0][]), "y", "p");
    assertEquals(0, m.rows());
    assertTrue(Double.isNaN(m.logLoss()));
  }

  @Test
  void normalizedEntropyIsOneForTheBaseRateAndBelowForSkill() {
    // Predicting the observed rate (0.25) for everyone is exactly the entropy of the base rate.
    double[][] flat = {{1, 0.25}, {0, 0.25}, {0, 0.25}, {0, 0.25}};
    assertEquals(1.0, BinaryMetrics.compute(scored(flat), "y", "p").normalizedEntropy(), 1e-12);
    double[][] skilled = {{1, 0.7}, {0, 0.1}, {0, 0.1}, {0, 0.1}};
    assertTrue(BinaryMetrics.compute(scored(skilled), "y", "p").normalizedEntropy() < 0.5);
  }

  @Test
  void reliabilityBinsAndEceMatchHandComputedValues() {
    // Bin of 0.02: [10^-1.8, 10^-1.6); bin of 0.5: [10^-0.4, 10^-0.2).
    double[][] rows = {{0, 0.02}, {0, 0.02}, {1, 0.02}, {0, 0.02}, {1, 0.5}, {1, 0.5}};
    BinaryMetrics m = BinaryMetrics.compute(scored(rows), "y", "p");
    assertEquals(2, m.reliability().size(), "two non-empty bins");
    BinaryMetrics.Bin low = m.reliability().get(0);
    assertEquals(12, low.bin());
    assertEquals(Math.pow(10, -1.8), low.lower(), 1e-12);
    assertEquals(4, low.count());
    assertEquals(0.25, low.observedRate(), 1e-12);
    assertEquals(0.02, low.meanPredicted(), 1e-12);
    BinaryMetrics.Bin high = m.reliability().get(1);
    assertEquals(2, high.count());
    double ece = 4.0 / 6 * Math.abs(0.02 - 0.25) + 2.0 / 6 * Math.abs(0.5 - 1.0);
    assertEquals(ece, m.ece(), 1e-12);
    assertEquals(0, BinaryMetrics.compute(scored(new double[][] {{0, 0.0}}), "y", "p").reliability().get(0).bin(),
        "probabilities below 1e-4 share bin 0");
  }

  @Test
  void prAucAndRocOfAPerfectRanking() {
    double[][] rows = {{1, 0.9}, {1, 0.8}, {0, 0.3}, {0, 0.2}, {0, 0.1}};
    BinaryMetrics m = BinaryMetrics.compute(scored(rows), "y", "p");
    assertEquals(1.0, m.prAuc(), 1e-12);
    assertEquals(1.0, m.auc(), 1e-12);
    assertTrue(m.roc().stream().anyMatch(p -> p.fpr() == 0.0 && p.tpr() == 1.0), "the curve reaches (0, 1)");
    assertTrue(m.roc().size() <= BinaryMetrics.ROC_POINTS);
  }

  @Test
  void rocIsTheExactCurveDownsampled() {
    double[][] rows = new double[5_000][];
    for (int i = 0; i < rows.length; i++) {
      double p = (i + 0.5) / rows.length;
      rows[i] = new double[] {(i * 2_654_435_761L >>> 7) % 1000 < p * 1000 ? 1 : 0, p};
    }
    BinaryMetrics m = BinaryMetrics.compute(scored(rows), "y", "p");
    List<List<Double>> exact = new java.util.ArrayList<>();
    for (Object o : (Object[]) new org.apache.spark.mllib.evaluation.BinaryClassificationMetrics(
        scored(rows).toJavaRDD().map(r -> new scala.Tuple2<Object, Object>(r.getDouble(1), (double) r.getInt(0)))
            .rdd(), 0).roc().collect()) {
      scala.Tuple2<?, ?> t = (scala.Tuple2<?, ?>) o;
      exact.add(List.of((Double) t._1(), (Double) t._2()));
    }
    List<List<Double>> sampled = m.roc().stream().map(p -> List.of(p.fpr(), p.tpr())).toList();
    assertTrue(sampled.size() <= BinaryMetrics.ROC_POINTS && sampled.size() >= BinaryMetrics.ROC_POINTS / 2,
        sampled.size() + " points of " + exact.size());
    assertEquals(exact.get(0), sampled.get(0), "from (0, 0)");
    assertEquals(exact.get(exact.size() - 1), sampled.get(sampled.size() - 1), "to (1, 1)");
    int at = 0;
    for (List<Double> point : sampled) {
      int found = exact.subList(at, exact.size()).indexOf(point);
      assertTrue(found >= 0, point + " is a point of the exact curve, in its order");
      at += found + 1;
    }
  }
}
