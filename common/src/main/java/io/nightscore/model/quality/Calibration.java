package io.nightscore.model.quality;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.exp;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.log;

import io.nightscore.common.config.Settings;
import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.regression.IsotonicRegression;
import org.apache.spark.ml.regression.IsotonicRegressionModel;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;

/**
 * Turns the booster's raw probability into the probability a model publishes: first the exact
 * correction for negative sampling, {@code logit(q) = logit(p) + ln(rate)}, then an optional map of the
 * log-odds fitted on held-out rows ("platt": logistic, "isotonic": monotone, on a fixed grid). Applied
 * with built-in expressions only, so it runs wherever the scoring query runs (RAPIDS included).
 *
 * @param method               one of {@link #METHODS}
 * @param negativeSamplingRate share of negatives the booster was trained on (1 = all)
 * @param params               platt: {a, b}; isotonic: {lo, hi, y_0 .. y_(k-1)} on an even grid of log-odds
 */
public record Calibration(String method, double negativeSamplingRate, double[] params) implements Serializable {
  public static final List<String> METHODS = Settings.CALIBRATION_METHODS;
  /** Probabilities are kept within [EPS, 1 - EPS] so log-odds and log loss stay finite. */
  static final double EPS = 1e-7;
  static final int GRID = 512;

  public Calibration {
    if (!METHODS.contains(method)) {
      throw new IllegalArgumentException("calibration method must be one of " + METHODS + ", got '" + method + "'");
    }
    if (!(negativeSamplingRate > 0 && negativeSamplingRate <= 1)) {
      throw new IllegalArgumentException("negative sampling rate must be in (0, 1], got " + negativeSamplingRate);
    }
    params = params.clone();
  }

  /** Log-odds of a raw probability, corrected for negative sampling at {@code rate}. */
  public static Column logOdds(Column raw, double rate) {
    Column p = least(greatest(raw.cast("double"), lit(EPS)), lit(1 - EPS));
    return log(p.divide(lit(1.0).minus(p))).plus(lit(Math.log(rate)));
  }

  private static Column sigmoid(Column z) {
    return lit(1.0).divide(lit(1.0).plus(exp(z.multiply(-1))));
  }

  private static Column clip(Column p) {
    return least(greatest(p, lit(EPS)), lit(1 - EPS));
  }

  /** The published probability for a column of raw booster probabilities. */
  public Column apply(Column raw) {
    Column z = logOdds(raw, negativeSamplingRate);
    return switch (method) {
      case "none" -> sigmoid(z);
      case "platt" -> sigmoid(z.multiply(params[0]).plus(params[1]));
      default -> isotonic(z);
    };
  }

  private Column isotonic(Column z) {
    double lo = params[0];
    double hi = params[1];
    int k = params.length - 2;
    Column ys = array(Arrays.stream(params, 2, params.length).mapToObj(v -> lit(v)).toArray(Column[]::new));
    if (hi <= lo || k < 2) {
      return clip(element_at(ys, 1));
    }
    Column t = least(greatest(z, lit(lo)), lit(hi)).minus(lo).multiply((k - 1) / (hi - lo));
    Column i = least(floor(t), lit(k - 2)).cast("int");
    Column f = t.minus(i);
    Column y0 = element_at(ys, i.plus(1));
    Column y1 = element_at(ys, i.plus(2));
    return clip(y0.plus(y1.minus(y0).multiply(f)));
  }

  /**
   * Fits the calibration on scored, labelled rows that training did not see. Both fits run on the
   * cluster (Spark ML); only their few coefficients come back. The rows' log-odds and labels are kept
   * (memory, then disk) while the fit reads them: Spark's logistic regression passes over its input once
   * for its summary and again to build its cached blocks, and {@code scored} is usually a query that
   * predicts with the booster, which would then score every row twice.
   */
  public static Calibration fit(String method, double negativeSamplingRate, Dataset<Row> scored, String labelCol,
      String rawCol) {
    if (method.equals("none")) {
      return new Calibration(method, negativeSamplingRate, new double[0]);
    }
    Dataset<Row> d = scored.select(logOdds(col(rawCol), negativeSamplingRate).as("_z"),
        col(labelCol).cast("double").as("_y")).persist(StorageLevel.MEMORY_AND_DISK());
    try {
      return method.equals("platt") ? platt(negativeSamplingRate, d) : isotonic(negativeSamplingRate, d);
    } finally {
      d.unpersist();
    }
  }

  private static Calibration platt(double negativeSamplingRate, Dataset<Row> d) {
    Dataset<Row> v = d.select(org.apache.spark.ml.functions.array_to_vector(array(col("_z"))).as("_zv"), col("_y"));
    LogisticRegressionModel lr = new LogisticRegression().setFeaturesCol("_zv").setLabelCol("_y")
        .setRegParam(0.0).setStandardization(false).setMaxIter(100).setTol(1e-9).fit(v);
    return new Calibration("platt", negativeSamplingRate, new double[] {lr.coefficients().apply(0), lr.intercept()});
  }

  private static Calibration isotonic(double negativeSamplingRate, Dataset<Row> d) {
    IsotonicRegressionModel iso = new IsotonicRegression().setFeaturesCol("_z").setLabelCol("_y").fit(d);
    double[] bx = iso.boundaries().toArray();
    double[] by = iso.predictions().toArray();
    if (bx.length == 0) {
      throw new IllegalArgumentException("isotonic calibration needs at least one scored row");
    }
    double lo = bx[0];
    double hi = bx[bx.length - 1];
    double[] out = new double[GRID + 2];
    out[0] = lo;
    out[1] = hi;
    for (int g = 0; g < GRID; g++) {
      out[g + 2] = interpolate(bx, by, hi > lo ? lo + (hi - lo) * g / (GRID - 1) : lo);
    }
    return new Calibration("isotonic", negativeSamplingRate, out);
  }

  /** Spark's isotonic prediction rule: linear between boundaries, constant beyond them. */
  static double interpolate(double[] bx, double[] by, double x) {
    int i = Arrays.binarySearch(bx, x);
    if (i >= 0) {
      return by[i];
    }
    int hi = -i - 1;
    if (hi == 0) {
      return by[0];
    }
    if (hi == bx.length) {
      return by[bx.length - 1];
    }
    int lo = hi - 1;
    return by[lo] + (by[hi] - by[lo]) * (x - bx[lo]) / (bx[hi] - bx[lo]);
  }

  /** The fitted parameters as a plain list, for the models table. */
  public List<Double> paramList() {
    return Arrays.stream(params).boxed().toList();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Calibration c && c.method.equals(method)
        && c.negativeSamplingRate == negativeSamplingRate && Arrays.equals(c.params, params);
  }

  @Override
  public int hashCode() {
    return method.hashCode() * 31 + Arrays.hashCode(params);
  }

  @Override
  public String toString() {
    String p = method.equals("platt") ? String.format(java.util.Locale.ROOT, " a=%.4f b=%.4f", params[0], params[1])
        : method.equals("isotonic") ? " on " + (params.length - 2) + " grid points" : "";
    return method + p + (negativeSamplingRate < 1 ? " after negative-sampling correction at " + negativeSamplingRate
        : "");
  }
}
