package io.nightscore.model.quality;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.log10;
import static org.apache.spark.sql.functions.log;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.spark.mllib.evaluation.BinaryClassificationMetrics;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import scala.Tuple2;

/**
 * Quality of probabilities against 0/1 labels, the way the CTR field measures it, computed on the
 * cluster with aggregates and Spark's own {@link BinaryClassificationMetrics}: nothing proportional to
 * the rows reaches the driver (the reliability table has at most {@link #BINS} rows, the ROC curve at
 * most {@link #ROC_POINTS} points).
 *
 * @param rows        scored rows
 * @param positives   rows with label 1
 * @param auc         area under the ROC curve (exact: no binning)
 * @param prAuc       area under the precision-recall curve (exact, Spark's interpolation)
 * @param logLoss     mean negative log-likelihood, probabilities clipped to [1e-15, 1 - 1e-15]
 * @param meanScore   mean predicted probability
 * @param rate        observed positive rate
 * @param reliability non-empty probability bins, lowest first
 * @param roc         the ROC curve, downsampled for plotting (false positive rate, true positive rate)
 */
public record BinaryMetrics(long rows, long positives, double auc, double prAuc, double logLoss, double meanScore,
    double rate, List<Bin> reliability, List<RocPoint> roc) {

  private static final double EPS = 1e-15;
  /** Reliability bins: [0, 1e-4) and then 5 per decade of probability up to 1. */
  public static final int BINS = 21;
  public static final int ROC_POINTS = 200;

  /** One reliability bin: predicted probabilities in [lower, upper). */
  public record Bin(int bin, double lower, double upper, long count, long positives, double meanPredicted) {
    public double observedRate() {
      return count == 0 ? Double.NaN : (double) positives / count;
    }
  }

  public record RocPoint(double fpr, double tpr) {}

  /** Σ predicted ÷ Σ actual: 1.0 is calibrated on average. */
  public double calibrationRatio() {
    return positives == 0 ? Double.NaN : meanScore * rows / positives;
  }

  /** Log loss ÷ the entropy of the observed rate: below 1 is better than always predicting the rate. */
  public double normalizedEntropy() {
    if (rate <= 0 || rate >= 1) {
      return Double.NaN;
    }
    double h = -(rate * Math.log(rate) + (1 - rate) * Math.log(1 - rate));
    return logLoss / h;
  }

  /** Expected calibration error: |mean predicted − observed rate| averaged over bins, weighted by rows. */
  public double ece() {
    if (rows == 0) {
      return Double.NaN;
    }
    double e = 0;
    for (Bin b : reliability) {
      e += (double) b.count() / rows * Math.abs(b.meanPredicted() - b.observedRate());
    }
    return e;
  }

  static double lowerEdge(int bin) {
    return bin == 0 ? 0.0 : Math.pow(10, -4 + (bin - 1) / 5.0);
  }

  static double upperEdge(int bin) {
    return Math.pow(10, -4 + bin / 5.0);
  }

  /** The reliability bin of a probability column (see {@link #BINS}). */
  static Column binOf(Column p) {
    return when(p.lt(1e-4), lit(0))
        .otherwise(least(lit(BINS - 1), floor(log10(p).plus(4).multiply(5)).cast("int").plus(1)));
  }

  /**
   * At most {@link #ROC_POINTS} points of the exact curve, evenly spaced along it, its first and last included.
   * Read from the curve the exact AUC was computed on (its counts are cached): a second, binned
   * {@link BinaryClassificationMetrics} would group and sort the scores all over again.
   */
  private static List<RocPoint> downsampled(org.apache.spark.rdd.RDD<Tuple2<Object, Object>> curve) {
    long n = curve.count();
    // Every step-th point from the first, then the last: at most (n - 1) / step + 2 points.
    long step = n <= ROC_POINTS ? 1 : (n - 1 + ROC_POINTS - 3) / (ROC_POINTS - 2);
    List<RocPoint> points = new ArrayList<>();
    for (Tuple2<Object, Object> t : curve.toJavaRDD().zipWithIndex()
        .filter(p -> p._2() % step == 0 || p._2() == n - 1).keys().collect()) {
      points.add(new RocPoint((Double) t._1(), (Double) t._2()));
    }
    return List.copyOf(points);
  }

  public static BinaryMetrics compute(Dataset<Row> scored, String labelCol, String scoreCol) {
    Dataset<Row> d = scored.select(col(scoreCol).cast("double").as("_p"), col(labelCol).cast("double").as("_y"));
    Column p = least(greatest(col("_p"), lit(EPS)), lit(1 - EPS));
    Column y = col("_y");
    List<Row> perBin = d.groupBy(binOf(col("_p")).as("_bin")).agg(
        count(lit(1)),
        sum(y),
        sum(y.multiply(log(p)).plus(lit(1.0).minus(y).multiply(log(lit(1.0).minus(p)))).multiply(-1)),
        sum(col("_p"))).collectAsList();
    long rows = 0;
    long positives = 0;
    double lossSum = 0;
    double scoreSum = 0;
    List<Bin> bins = new ArrayList<>();
    for (Row r : perBin) {
      int bin = r.getInt(0);
      long n = r.getLong(1);
      long pos = Math.round(r.getDouble(2));
      rows += n;
      positives += pos;
      lossSum += r.getDouble(3);
      scoreSum += r.getDouble(4);
      bins.add(new Bin(bin, lowerEdge(bin), upperEdge(bin), n, pos, r.getDouble(4) / n));
    }
    bins.sort(Comparator.comparingInt(Bin::bin));
    double auc = Double.NaN;
    double prAuc = Double.NaN;
    List<RocPoint> roc = List.of();
    if (positives > 0 && positives < rows) {
      org.apache.spark.rdd.RDD<Tuple2<Object, Object>> pairs = d.toJavaRDD()
          .map(r -> new Tuple2<Object, Object>(r.getDouble(0), r.getDouble(1))).rdd();
      BinaryClassificationMetrics exact = new BinaryClassificationMetrics(pairs, 0);
      auc = exact.areaUnderROC();
      prAuc = exact.areaUnderPR();
      roc = downsampled(exact.roc());
      exact.unpersist();
    }
    return new BinaryMetrics(rows, positives, auc, prAuc,
        rows == 0 ? Double.NaN : lossSum / rows,
        rows == 0 ? Double.NaN : scoreSum / rows,
        rows == 0 ? Double.NaN : (double) positives / rows,
        List.copyOf(bins), roc);
  }
}
