package io.nightscore.jobs;

import io.nightscore.common.config.Settings;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** Where a command's SparkSession comes from: spark-submit's (built here) or one a caller already has. */
public interface Sessions {

  SparkSession open(Settings settings, String appName);

  void close(SparkSession spark);

  /**
   * The session spark-submit prepared: master, resources and cluster settings come from spark-submit;
   * only the settings nightscore needs and spark-submit left unset are added.
   */
  static Sessions submitted() {
    return new Sessions() {
      @Override
      public SparkSession open(Settings settings, String appName) {
        SparkConf submitted = new SparkConf(true);
        SparkSession.Builder builder = SparkSession.builder().appName(appName);
        for (Map.Entry<String, String> e : settings.sparkConf().entrySet()) {
          if (!submitted.contains(e.getKey())) {
            builder.config(e.getKey(), e.getValue());
          }
        }
        return builder.getOrCreate();
      }

      @Override
      public void close(SparkSession spark) {
        spark.stop();
      }
    };
  }

  /** An existing session (tests, notebooks); nightscore never stops it. */
  static Sessions existing(SparkSession spark) {
    return new Sessions() {
      @Override
      public SparkSession open(Settings settings, String appName) {
        return spark;
      }

      @Override
      public void close(SparkSession s) {
        // owned by the caller
      }
    };
  }
}
