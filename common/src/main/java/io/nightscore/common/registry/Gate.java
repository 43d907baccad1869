package io.nightscore.common.registry;

import io.nightscore.common.config.GateSettings;
import io.nightscore.model.quality.BinaryMetrics;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The promotion rule, as a pure function of numbers: a candidate passes if it meets the absolute bounds
 * (AUC, normalized entropy, calibration ratio) and, when there is a champion measured on the same rows, is
 * not worse than it by more than the tolerances. Every check is reported with its numbers, passed or not.
 */
public final class Gate {
  private Gate() {}

  /** The outcome: passed when no check failed; {@code checks} lists every check as a sentence. */
  public record Verdict(boolean passed, List<String> checks, List<String> failures) {}

  /**
   * Judges {@code candidate} against {@code champion} (null when there is none, or it could not be measured
   * on the same rows) under the tolerances of {@code gate}.
   */
  public static Verdict judge(GateSettings gate, BinaryMetrics candidate, BinaryMetrics champion, Long championVersion) {
    List<String> checks = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    double auc = candidate.auc();
    double ne = candidate.normalizedEntropy();
    double ratio = candidate.calibrationRatio();
    check(checks, failures, auc >= gate.minAuc(), "AUC %.4f >= %.4f (min-auc)", auc, gate.minAuc());
    check(checks, failures, ne < gate.maxNormalizedEntropy(), "normalized entropy %.4f < %.4f (max-normalized-entropy)",
        ne, gate.maxNormalizedEntropy());
    check(checks, failures, ratio >= gate.minCalibrationRatio() && ratio <= gate.maxCalibrationRatio(),
        "calibration ratio sum(score)/sum(label) %.3f within [%.3f, %.3f]", ratio, gate.minCalibrationRatio(),
        gate.maxCalibrationRatio());
    if (champion != null) {
      double ll = candidate.logLoss();
      double limit = champion.logLoss() * (1 + gate.maxLogLossIncrease());
      check(checks, failures, ll <= limit, "log loss %.5f <= %.5f (champion v%d %.5f %+.2f%%, allowed +%.2f%%)", ll,
          limit, championVersion, champion.logLoss(), 100 * (ll / champion.logLoss() - 1),
          100 * gate.maxLogLossIncrease());
      double floor = champion.auc() - gate.maxAucDecrease();
      check(checks, failures, auc >= floor, "AUC %.4f >= %.4f (champion v%d %.4f, allowed -%.4f)", auc, floor,
          championVersion, champion.auc(), gate.maxAucDecrease());
    }
    return new Verdict(failures.isEmpty(), checks, failures);
  }

  private static void check(List<String> checks, List<String> failures, boolean ok, String format, Object... args) {
    // NaN fails every comparison above, so a model whose metrics cannot be computed never passes.
    String line = (ok ? "pass: " : "FAIL: ") + String.format(Locale.ROOT, format, args);
    checks.add(line);
    if (!ok) {
      failures.add(line);
    }
  }
}
