package io.nightscore.common.config;

import com.typesafe.config.Config;
import java.util.List;

/**
 * What {@code monitor} calls drift and a quality problem ({@code nightscore.monitor}): PSI thresholds, the
 * smallest expected bin, the realized-quality bounds against the model's own holdout figures, and the features
 * whose drift is by design (a day-of-week feature is one value per day).
 */
public record MonitorSettings(double psiWarn, double psiAlert, long minBinRows, double maxAucDrop,
    double minCalibration, double maxCalibration, long minPositives, double significance,
    java.util.List<String> skipFeatures) {

  public MonitorSettings {
    Settings.check(psiWarn > 0 && psiAlert >= psiWarn, "nightscore.monitor PSI thresholds must satisfy 0 < psi-warn "
        + "<= psi-alert, got %s and %s", psiWarn, psiAlert);
    Settings.check(minBinRows >= 1, "nightscore.monitor.min-bin-rows must be >= 1, got %s", minBinRows);
    Settings.check(maxAucDrop > 0 && maxAucDrop < 0.5, "nightscore.monitor.max-auc-drop must be in (0, 0.5), got %s",
        maxAucDrop);
    Settings.check(minCalibration > 0 && minCalibration < 1 && maxCalibration > 1, "nightscore.monitor calibration "
        + "bounds must satisfy 0 < min-calibration < 1 < max-calibration, got [%s, %s]", minCalibration,
        maxCalibration);
    Settings.check(minPositives >= 1, "nightscore.monitor.min-positives must be >= 1, got %s", minPositives);
    Settings.check(significance >= 0, "nightscore.monitor.significance must be >= 0 (standard errors), got %s",
        significance);
  }

  static MonitorSettings fromConfig(Config c) {
    return new MonitorSettings(c.getDouble("psi-warn"), c.getDouble("psi-alert"), c.getLong("min-bin-rows"),
        c.getDouble("max-auc-drop"), c.getDouble("min-calibration"), c.getDouble("max-calibration"),
        c.getLong("min-positives"), c.getDouble("significance"), List.copyOf(c.getStringList("skip-features")));
  }
}
