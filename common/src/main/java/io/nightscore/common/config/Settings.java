package io.nightscore.common.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import io.nightscore.common.sql.SqlSafety;
import java.io.Serializable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The immutable, validated settings of one nightscore run; built once from the layered config. */
public final class Settings implements Serializable {
  /** The post-hoc calibration methods retrain knows. */
  public static final java.util.List<String> CALIBRATION_METHODS = java.util.List.of("platt", "isotonic", "none");

  private static final long serialVersionUID = 1L;

  private final String warehouse;
  private final String database;
  private final String timezone;
  private final EventSchema schema;
  private final double maxQuarantineShare;
  private final int maxValueLength;
  private final String csvEscape;
  private final String categoricalMode;
  private final int maxCategories;
  private final double targetSmoothing;
  private final int targetFolds;
  private final long minCategoryCount;
  private final int windowDays;
  private final int minDays;
  private final double negativeSamplingRate;
  private final String calibration;
  private final double tuneShare;
  private final long retrainSeed;
  private final XGBoostSettings xgboost;
  private final GateSettings gate;
  private final boolean shadowScoring;
  private final long retentionHours;
  private final int labelsMatureAfterDays;
  private final MonitorSettings monitor;
  private final Map<String, String> sparkConf;
  private final String rendered;
  /** The layered config these settings came from (driver side only), for {@link #with}. */
  private final transient Config config;

  /** Keys whose values never reach the registry's copy of the config (credentials in spark.hadoop.* etc.). */
  private static final java.util.regex.Pattern SECRET =
      java.util.regex.Pattern.compile("(?i)(secret|password|passwd|token|credential|access\\.?key|private)");

  private Settings(Config c) {
    String root = ConfigLoader.ROOT + ".";
    this.warehouse = SqlSafety.checkPath(c.getString(root + "warehouse"), "nightscore.warehouse");
    this.database = SqlSafety.checkIdentifier(c.getString(root + "database"), "nightscore.database");
    this.timezone = c.getString(root + "timezone");
    try {
      java.time.ZoneId.of(timezone);
    } catch (java.time.DateTimeException e) {
      throw new IllegalArgumentException(
          "nightscore.timezone must be a zone id such as 'UTC' or 'Europe/Paris', got '" + timezone + "'");
    }
    this.schema = EventSchema.fromConfig(c.getConfig(root + "schema"));
    this.maxQuarantineShare = c.getDouble(root + "ingest.max-quarantine-share");
    check(maxQuarantineShare >= 0 && maxQuarantineShare <= 1,
        "nightscore.ingest.max-quarantine-share must be within [0, 1], got %s", maxQuarantineShare);
    this.maxValueLength = c.getInt(root + "ingest.max-value-length");
    check(maxValueLength > 0, "nightscore.ingest.max-value-length must be > 0, got %s", maxValueLength);
    this.csvEscape = c.getString(root + "ingest.csv-escape");
    check(csvEscape.equals("\"") || csvEscape.equals("\\"),
        "nightscore.ingest.csv-escape must be '\"' (RFC 4180) or '\\' (Spark's CSV writer), got '%s'", csvEscape);
    this.categoricalMode = c.getString(root + "features.categorical-mode");
    check(List.of("target", "ordinal", "native").contains(categoricalMode),
        "nightscore.features.categorical-mode must be 'target', 'ordinal' or 'native', got '%s'", categoricalMode);
    this.targetSmoothing = c.getDouble(root + "features.target-smoothing");
    check(targetSmoothing > 0, "nightscore.features.target-smoothing must be > 0, got %s", targetSmoothing);
    this.targetFolds = c.getInt(root + "features.target-folds");
    check(targetFolds >= 2 && targetFolds <= 20, "nightscore.features.target-folds must be in [2, 20], got %s",
        targetFolds);
    this.maxCategories = c.getInt(root + "features.max-categories");
    check(maxCategories >= 1, "nightscore.features.max-categories must be >= 1, got %s", maxCategories);
    this.minCategoryCount = c.getLong(root + "features.min-category-count");
    check(minCategoryCount >= 1, "nightscore.features.min-category-count must be >= 1, got %s",
        minCategoryCount);
    this.windowDays = c.getInt(root + "retrain.window-days");
    int min = c.getInt(root + "retrain.min-days");
    this.minDays = min == 0 ? windowDays : min;
    check(windowDays >= 2, "nightscore.retrain.window-days must be >= 2 (train days + one holdout day), got %s",
        windowDays);
    check(minDays >= 2 && minDays <= windowDays, "nightscore.retrain.min-days must be 0 (= window-days) or within "
        + "[2, window-days = %s], got %s", windowDays, min);
    this.negativeSamplingRate = c.getDouble(root + "retrain.negative-sampling-rate");
    check(negativeSamplingRate > 0 && negativeSamplingRate <= 1,
        "nightscore.retrain.negative-sampling-rate must be in (0, 1] (1 = keep every negative), got %s",
        negativeSamplingRate);
    this.calibration = c.getString(root + "retrain.calibration");
    check(CALIBRATION_METHODS.contains(calibration), "nightscore.retrain.calibration must be one of %s, got '%s'",
        CALIBRATION_METHODS, calibration);
    this.tuneShare = c.getDouble(root + "retrain.tune-share");
    check(tuneShare > 0 && tuneShare < 1, "nightscore.retrain.tune-share must be in (0, 1), got %s", tuneShare);
    this.retrainSeed = c.getLong(root + "retrain.seed");
    this.xgboost = XGBoostSettings.fromConfig(c.getConfig(root + "xgboost"));
    this.gate = GateSettings.fromConfig(c.getConfig(root + "gate"));
    this.shadowScoring = c.getBoolean(root + "score.shadow");
    this.retentionHours = c.getLong(root + "maintain.retention-hours");
    check(retentionHours >= 168, "nightscore.maintain.retention-hours must be >= 168 (7 days: time travel and the "
        + "registry's lineage need the history), got %s", retentionHours);
    this.labelsMatureAfterDays = c.getInt(root + "labels.mature-after-days");
    check(labelsMatureAfterDays >= 0 && labelsMatureAfterDays <= 60, "nightscore.labels.mature-after-days must be "
        + "within [0, 60] (0: labels come with the events), got %s", labelsMatureAfterDays);
    this.monitor = MonitorSettings.fromConfig(c.getConfig(root + "monitor"));
    Map<String, String> spark = new TreeMap<>();
    for (Map.Entry<String, ConfigValue> e : c.getObject(root + "spark").entrySet()) {
      spark.put(e.getKey(), String.valueOf(e.getValue().unwrapped()));
    }
    spark.put("spark.sql.session.timeZone", timezone);
    this.sparkConf = Collections.unmodifiableMap(spark);
    Config shown = c.getConfig(ConfigLoader.ROOT);
    for (Map.Entry<String, ConfigValue> e : shown.entrySet()) {
      if (SECRET.matcher(e.getKey()).find()) {
        shown = shown.withValue(e.getKey(), com.typesafe.config.ConfigValueFactory.fromAnyRef("<redacted>"));
      }
    }
    this.rendered = shown.root().render(ConfigRenderOptions.concise().setFormatted(true));
    this.config = c;
  }

  /**
   * These settings with some keys overridden (e.g. a benchmark's fixed rounds), validated like --conf.
   * Only on the driver: the layered config is not serialized.
   */
  public Settings with(Map<String, String> overrides) {
    if (config == null) {
      throw new IllegalStateException("Settings.with is driver-only: these settings were deserialized");
    }
    Config layered = ConfigLoader.overrides(new LinkedHashMap<>(overrides)).withFallback(config);
    ConfigLoader.validate(layered, com.typesafe.config.ConfigFactory.defaultReference());
    return from(layered);
  }

  /** Validates and wraps an already layered config (see {@link ConfigLoader}). */
  public static Settings from(Config config) {
    try {
      return new Settings(config);
    } catch (com.typesafe.config.ConfigException e) {
      throw new IllegalArgumentException("Invalid configuration: " + e.getMessage(), e);
    }
  }

  /** The packaged defaults with the given overrides on top; convenient for tests and embedding. */
  public static Settings defaults(Map<String, String> overrides) {
    return from(ConfigLoader.load(null, overrides == null ? Map.of() : new LinkedHashMap<>(overrides)));
  }

  static void check(boolean ok, String format, Object... args) {
    if (!ok) {
      throw new IllegalArgumentException(String.format(format, args));
    }
  }

  public String warehouse() {
    return warehouse;
  }

  public String database() {
    return database;
  }

  public String timezone() {
    return timezone;
  }

  public EventSchema schema() {
    return schema;
  }

  public double maxQuarantineShare() {
    return maxQuarantineShare;
  }

  /** The character escaping a quote inside a quoted CSV field: a quote (RFC 4180) or a backslash. */
  public String csvEscape() {
    return csvEscape;
  }

  /** Longest raw value of a contract column, in characters; longer ones are quarantined. */
  public int maxValueLength() {
    return maxValueLength;
  }

  /** "target" (smoothed rate), "ordinal" (category index as a number) or "native" (XGBoost categorical splits). */
  public String categoricalMode() {
    return categoricalMode;
  }

  /** Pseudo-rows at the overall rate added to each categorical value's counts (target mode). */
  public double targetSmoothing() {
    return targetSmoothing;
  }

  /** Folds for out-of-fold target statistics of training rows (target mode). */
  public int targetFolds() {
    return targetFolds;
  }

  public int maxCategories() {
    return maxCategories;
  }

  public long minCategoryCount() {
    return minCategoryCount;
  }

  public int windowDays() {
    return windowDays;
  }

  /** Fewest days of the window (training days and the holdout day) that must have events. */
  public int minDays() {
    return minDays;
  }

  /** Share of negatives kept for training; predictions are corrected for it. */
  public double negativeSamplingRate() {
    return negativeSamplingRate;
  }

  /** Post-hoc calibration method: one of {@link #CALIBRATION_METHODS}. */
  public String calibration() {
    return calibration;
  }

  /** Share of the holdout day used for early stopping and calibration; the rest is for evaluation. */
  public double tuneShare() {
    return tuneShare;
  }

  /** Seed of the hashes that sample negatives and split the holdout day. */
  public long retrainSeed() {
    return retrainSeed;
  }

  public XGBoostSettings xgboost() {
    return xgboost;
  }

  /** Spark settings this run needs; applied only where spark-submit left them unset. */
  public GateSettings gate() {
    return gate;
  }

  /** Hours of table history VACUUM keeps at least. */
  public long retentionHours() {
    return retentionHours;
  }

  /** Largest factor between a day's mean score and the previous scored day's that check accepts. */
  /**
   * Days after an event's day its labels may still arrive; 0 when labels come with the events. On a run for
   * date D, day d's labels are final once d + N <= D - 1.
   */
  public int labelsMatureAfterDays() {
    return labelsMatureAfterDays;
  }

  /** Whether labels arrive after their events (through ingest-labels). */
  public boolean delayedLabels() {
    return labelsMatureAfterDays > 0;
  }

  public MonitorSettings monitor() {
    return monitor;
  }

  /** Whether score also writes the newest challenger's scores to scores_shadow. */
  public boolean shadowScoring() {
    return shadowScoring;
  }

  public Map<String, String> sparkConf() {
    return sparkConf;
  }

  /** The resolved nightscore config as HOCON text, credentials redacted: what a model records it ran with. */
  public String rendered() {
    return rendered;
  }
}
