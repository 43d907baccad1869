package io.nightscore.common;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.log;
import static org.apache.spark.sql.functions.sum;

import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Quality of probabilities against 0/1 labels, computed on the cluster with aggregates and Spark's
 * own evaluator (nothing proportional to the rows reaches the driver).
 *
 * @param rows        scored rows
 * @param positives   rows with label 1
 * @param auc         area under the ROC curve (exact: no binning)
 * @param logLoss     mean negative log-likelihood, probabilities clipped to [1e-15, 1 - 1e-15]
 * @param meanScore   mean predicted probability
 * @param rate        observed positive rate
 */
public record BinaryMetrics(long rows, long positives, double auc, double logLoss, double meanScore,
    double rate) {

  private static final double EPS = 1e-15;

  /** Σ predicted ÷ Σ actual: 1.0 is calibrated on average. */
  public double calibrationRatio() {
    return positives == 0 ? Double.NaN : meanScore * rows / positives;
  }

  public static BinaryMetrics compute(Dataset<Row> scored, String labelCol, String scoreCol) {
    Column p = least(greatest(col(scoreCol).cast("double"), lit(EPS)), lit(1 - EPS));
    Column y = col(labelCol).cast("double");
    Row agg = scored.agg(
        count(lit(1)),
        sum(y),
        avg(y.multiply(log(p)).plus(lit(1.0).minus(y).multiply(log(lit(1.0).minus(p)))).multiply(-1)),
        avg(col(scoreCol).cast("double")),
        avg(y)).head();
    long rows = agg.getLong(0);
    long positives = agg.isNullAt(1) ? 0 : (long) agg.getDouble(1);
    double auc = Double.NaN;
    if (positives > 0 && positives < rows) {
      auc = new BinaryClassificationEvaluator()
          .setLabelCol(labelCol)
          .setRawPredictionCol(scoreCol)
          .setMetricName("areaUnderROC")
          .setNumBins(0)
          .evaluate(scored.select(y.as(labelCol), col(scoreCol).cast("double").as(scoreCol)));
    }
    return new BinaryMetrics(rows, positives, auc,
        agg.isNullAt(2) ? Double.NaN : agg.getDouble(2),
        agg.isNullAt(3) ? Double.NaN : agg.getDouble(3),
        agg.isNullAt(4) ? Double.NaN : agg.getDouble(4));
  }
}
