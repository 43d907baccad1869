package io.nightscore.model.engine;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * The library versions this package was written against. Everything here reaches below the public APIs of Spark
 * (catalyst rows and expressions, physical plan shapes, Parquet dictionaries) and xgboost4j-spark (its
 * package-private CPU fit, its booster JSON): an upgrade of either must re-check {@link CpuFit},
 * {@link BatchPredictor}, {@link ColumnarScan}, {@link RowFeatures}, {@link TrainingRows}, {@link BestRounds} and
 * {@link SparkFailures}, then move these constants.
 */
public final class EngineVersions {
  public static final String SPARK = "3.5.5";
  public static final String XGBOOST4J_SPARK = "3.4.0";

  private EngineVersions() {}

  /** The Spark version on the class path. */
  public static String spark() {
    return org.apache.spark.package$.MODULE$.SPARK_VERSION();
  }

  /** The xgboost4j-spark version on the class path, from the jar's Maven metadata ("unknown" when absent). */
  public static String xgboost4jSpark() {
    for (String artifact : new String[] {"xgboost4j-spark-gpu_2.12", "xgboost4j-spark_2.12"}) {
      try (InputStream in = EngineVersions.class.getResourceAsStream(
          "/META-INF/maven/ml.dmlc/" + artifact + "/pom.properties")) {
        if (in != null) {
          Properties p = new Properties();
          p.load(in);
          return p.getProperty("version", "unknown");
        }
      } catch (IOException e) {
        return "unknown";
      }
    }
    return "unknown";
  }

  /** A sentence naming each version that differs from the one this package was written for; empty when none. */
  public static String mismatch() {
    StringBuilder b = new StringBuilder();
    if (!SPARK.equals(spark())) {
      b.append("Spark is ").append(spark()).append(", model.engine was written for ").append(SPARK).append(". ");
    }
    if (!XGBOOST4J_SPARK.equals(xgboost4jSpark())) {
      b.append("xgboost4j-spark is ").append(xgboost4jSpark()).append(", model.engine was written for ")
          .append(XGBOOST4J_SPARK).append(". ");
    }
    return b.length() == 0 ? "" : b + "Re-check CpuFit, BatchPredictor, ColumnarScan, RowFeatures, TrainingRows "
        + "and BestRounds against the new versions (their tests compare with the libraries' own paths), then update "
        + "EngineVersions.";
  }
}
