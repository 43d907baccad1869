package io.nightscore.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Checks, before XGBoost is touched, that the configured device can work with this session: XGBoost
 * aborts the whole JVM when asked for {@code cuda} without a GPU, and refuses CPU training when the
 * RAPIDS plugin is on. A problem is reported as a message naming the settings to change.
 */
public final class DevicePreflight {
  static final String RAPIDS_PLUGIN = "com.nvidia.spark.SQLPlugin";

  private DevicePreflight() {}

  /** Null when the device fits the session, otherwise what is wrong and how to fix it. */
  public static String problem(String device, Map<String, String> sparkConf, Predicate<Path> exists) {
    String master = sparkConf.getOrDefault("spark.master", "");
    boolean rapids = rapidsEnabled(sparkConf);
    if ("cpu".equals(device)) {
      return rapids
          ? "nightscore.xgboost.device is 'cpu' but the RAPIDS plugin is enabled (spark.plugins contains "
              + RAPIDS_PLUGIN + "): XGBoost then takes its GPU path and refuses CPU training. Set "
              + "nightscore.xgboost.device=cuda on a GPU cluster, or spark.rapids.sql.enabled=false."
          : null;
    }
    if (master.toLowerCase(Locale.ROOT).startsWith("local")) {
      return exists.test(Path.of("/dev/nvidiactl")) || exists.test(Path.of("/dev/nvidia0"))
          ? null
          : "nightscore.xgboost.device is 'cuda' but this machine shows no NVIDIA GPU (/dev/nvidia0) and the "
              + "master is " + master + ": XGBoost would abort the JVM. Use nightscore.xgboost.device=cpu here.";
    }
    String executorGpus = sparkConf.get("spark.executor.resource.gpu.amount");
    return executorGpus == null || Double.parseDouble(executorGpus) <= 0
        ? "nightscore.xgboost.device is 'cuda' but spark.executor.resource.gpu.amount is not set: executors "
            + "get no GPU and XGBoost would abort them. Submit with --conf spark.executor.resource.gpu.amount=1 "
            + "(and spark.task.resource.gpu.amount), or use nightscore.xgboost.device=cpu."
        : null;
  }

  /** Whether the RAPIDS Accelerator is loaded and on (XGBoost then takes its GPU path). */
  public static boolean rapidsEnabled(Map<String, String> sparkConf) {
    return sparkConf.getOrDefault("spark.plugins", "").contains(RAPIDS_PLUGIN)
        && !"false".equalsIgnoreCase(sparkConf.getOrDefault("spark.rapids.sql.enabled", "true"));
  }

  /** {@link #rapidsEnabled(Map)} for a session's Spark settings. */
  public static boolean rapidsEnabled(org.apache.spark.SparkConf sparkConf) {
    return rapidsEnabled(asMap(sparkConf));
  }

  private static Map<String, String> asMap(org.apache.spark.SparkConf sparkConf) {
    Map<String, String> conf = new java.util.HashMap<>();
    for (scala.Tuple2<String, String> kv : sparkConf.getAll()) {
      conf.put(kv._1(), kv._2());
    }
    return conf;
  }

  /** {@link #problem} for a session's Spark settings, against this machine's device files. */
  public static String problem(String device, org.apache.spark.SparkConf sparkConf) {
    return problem(device, asMap(sparkConf), Files::exists);
  }
}
