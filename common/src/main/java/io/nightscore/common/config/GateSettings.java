package io.nightscore.common.config;

import com.typesafe.config.Config;

/**
 * The promotion gate's tolerances ({@code nightscore.gate}): how much worse than the champion a new version
 * may be, and the absolute bounds every candidate must meet.
 */
public record GateSettings(double maxLogLossIncrease, double maxAucDecrease, double minCalibrationRatio,
    double maxCalibrationRatio, double maxNormalizedEntropy, double minAuc, java.time.Duration abandonAfter) {

  public GateSettings {
    Settings.check(maxLogLossIncrease >= 0, "nightscore.gate.max-logloss-increase must be >= 0, got %s",
        maxLogLossIncrease);
    Settings.check(maxAucDecrease >= 0, "nightscore.gate.max-auc-decrease must be >= 0, got %s", maxAucDecrease);
    Settings.check(minCalibrationRatio > 0 && minCalibrationRatio <= 1 && maxCalibrationRatio >= 1,
        "nightscore.gate calibration bounds must satisfy 0 < min-calibration-ratio <= 1 <= max-calibration-ratio, "
            + "got [%s, %s]", minCalibrationRatio, maxCalibrationRatio);
    Settings.check(maxNormalizedEntropy > 0, "nightscore.gate.max-normalized-entropy must be > 0, got %s",
        maxNormalizedEntropy);
    Settings.check(minAuc >= 0 && minAuc <= 1, "nightscore.gate.min-auc must be within [0, 1], got %s", minAuc);
    Settings.check(abandonAfter.toMinutes() >= 10, "nightscore.gate.abandon-after must be at least 10 minutes (a "
        + "retrain still running must not be abandoned), got %s", abandonAfter);
  }

  static GateSettings fromConfig(Config c) {
    return new GateSettings(c.getDouble("max-logloss-increase"), c.getDouble("max-auc-decrease"),
        c.getDouble("min-calibration-ratio"), c.getDouble("max-calibration-ratio"),
        c.getDouble("max-normalized-entropy"), c.getDouble("min-auc"), c.getDuration("abandon-after"));
  }
}
