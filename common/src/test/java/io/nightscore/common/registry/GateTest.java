package io.nightscore.common.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nightscore.common.config.GateSettings;
import io.nightscore.model.quality.BinaryMetrics;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

@Execution(ExecutionMode.CONCURRENT)
class GateTest {
  static final GateSettings GATE = new GateSettings(0.005, 0.005, 0.8, 1.25, 0.99, 0.55,
      java.time.Duration.ofHours(2));
  static final double RATE = 0.012;
  /** Log loss of always predicting the rate: NE = logLoss / BASE. */
  static final double BASE = -(RATE * Math.log(RATE) + (1 - RATE) * Math.log(1 - RATE));

  /** Metrics of 100,000 rows at the rate, with the given AUC, NE and Σscore ÷ Σlabel. */
  static BinaryMetrics metrics(double auc, double ne, double calibration) {
    return new BinaryMetrics(100_000, 1_200, auc, 0.05, ne * BASE, RATE * calibration, RATE, List.of(), List.of());
  }

  @Test
  void firstModelIsJudgedOnAbsoluteBoundsOnly() {
    Gate.Verdict ok = Gate.judge(GATE, metrics(0.78, 0.89, 1.02), null, null);
    assertTrue(ok.passed(), ok.checks().toString());
    assertThat(ok.checks()).hasSize(3).allMatch(c -> c.startsWith("pass: "));
    assertFalse(Gate.judge(GATE, metrics(0.52, 0.89, 1.02), null, null).passed(), "AUC below min-auc");
    assertFalse(Gate.judge(GATE, metrics(0.78, 1.00, 1.02), null, null).passed(), "no better than the base rate");
    Gate.Verdict spw = Gate.judge(GATE, metrics(0.76, 5.44, 22.0), null, null);
    assertThat(spw.failures()).anyMatch(f -> f.contains("calibration ratio sum(score)/sum(label) 22.000"));
  }

  @Test
  void challengerMayBeWorseOnlyWithinTheTolerances() {
    BinaryMetrics champion = metrics(0.780, 0.890, 1.0);
    assertTrue(Gate.judge(GATE, metrics(0.778, 0.890 * 1.004, 1.0), champion, 3L).passed(), "within both tolerances");
    Gate.Verdict worse = Gate.judge(GATE, metrics(0.780, 0.890 * 1.006, 1.0), champion, 3L);
    assertFalse(worse.passed());
    assertThat(worse.failures()).singleElement().asString().startsWith("FAIL: log loss")
        .contains("champion v3").contains("+0.60%");
    Gate.Verdict ranksWorse = Gate.judge(GATE, metrics(0.770, 0.890, 1.0), champion, 3L);
    assertThat(ranksWorse.failures()).singleElement().asString().startsWith("FAIL: AUC 0.7700 >= 0.7750");
  }

  @Test
  void metricsThatCannotBeComputedNeverPass() {
    BinaryMetrics noPositives = new BinaryMetrics(1000, 0, Double.NaN, Double.NaN, 0.01, 0.01, 0.0, List.of(),
        List.of());
    Gate.Verdict v = Gate.judge(GATE, noPositives, null, null);
    assertFalse(v.passed());
    assertThat(v.failures()).hasSize(3);
  }
}
