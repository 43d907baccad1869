package io.nightscore.model.quality;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nightscore.common.config.MonitorSettings;
import io.nightscore.common.config.Settings;
import io.nightscore.model.quality.Drift.FeatureBaseline;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * PSI of days drawn from the baseline itself (no drift) stays below the default warning threshold at every day size,
 * from 250 rows (two groups) to a million; the same thresholds still flag a real shift. Counts are drawn here, with
 * a seed, so the test is the statistics of {@link Drift#stability} alone.
 */
class DriftTest {
  private static final MonitorSettings DEFAULTS = Settings.defaults(Map.of()).monitor();

  /** A numeric baseline: ten deciles and 2% nulls. */
  static FeatureBaseline numeric() {
    Map<String, Double> shares = new LinkedHashMap<>();
    for (int i = 0; i < 10; i++) {
      shares.put(String.valueOf(i), 0.098);
    }
    shares.put(Drift.NULL, 0.02);
    List<Double> edges = new ArrayList<>();
    for (int i = 1; i < 10; i++) {
      edges.add((double) i);
    }
    return new FeatureBaseline("latency_ms", "numeric", edges, List.of(), shares, 5.0);
  }

  /** A high-cardinality categorical: 20 frequent values with a Zipf tail, the rest, rare values and nulls. */
  static FeatureBaseline categorical() {
    List<String> top = new ArrayList<>();
    Map<String, Double> shares = new LinkedHashMap<>();
    double harmonic = 0;
    for (int i = 1; i <= 20; i++) {
      harmonic += 1.0 / i;
    }
    for (int i = 1; i <= 20; i++) {
      top.add("v" + i);
      shares.put("v" + i, 0.75 / harmonic / i);
    }
    shares.put(Drift.OTHER, 0.18);
    shares.put(Drift.UNSEEN, 0.04);
    shares.put(Drift.NULL, 0.03);
    return new FeatureBaseline("site_id", "categorical", List.of(), top, shares, Double.NaN);
  }

  /** {@code n} rows drawn from {@code shares} (bins in order), counted per bin. */
  static Map<String, Long> draw(Map<String, Double> shares, long n, SplittableRandom random) {
    List<String> bins = new ArrayList<>(shares.keySet());
    double[] cumulative = new double[bins.size()];
    double sum = 0;
    for (int i = 0; i < bins.size(); i++) {
      sum += shares.get(bins.get(i));
      cumulative[i] = sum;
    }
    long[] counts = new long[bins.size()];
    for (long r = 0; r < n; r++) {
      double u = random.nextDouble() * sum;
      int i = 0;
      while (i < cumulative.length - 1 && u >= cumulative[i]) {
        i++;
      }
      counts[i]++;
    }
    Map<String, Long> out = new HashMap<>();
    for (int i = 0; i < bins.size(); i++) {
      if (counts[i] > 0) {
        out.put(bins.get(i), counts[i]);
      }
    }
    return out;
  }

  @ParameterizedTest(name = "{1} days of {0} rows")
  // Below 2 x min-bin-rows a day is one group and its PSI is 0 by construction (binsAreMerged...): from 250 rows up.
  @CsvSource({"250, 400", "300, 400", "1000, 200", "3000, 200", "10000, 100", "100000, 20", "1000000, 4"})
  void aDayWithoutDriftRaisesNoWarningAtAnySize(long rows, int days) {
    SplittableRandom random = new SplittableRandom(rows);
    for (FeatureBaseline b : List.of(numeric(), categorical())) {
      double worst = 0;
      for (int d = 0; d < days; d++) {
        Drift.Stability s = Drift.stability(b, draw(b.shares(), rows, random), DEFAULTS.minBinRows());
        assertEquals(rows, s.rows());
        worst = Math.max(worst, s.psi());
      }
      System.out.printf(java.util.Locale.ROOT, "clean days: %,d rows x %d, %s: worst PSI %.4f%n", rows, days,
          b.feature(), worst);
      assertThat(Drift.status(worst, DEFAULTS.psiWarn(), DEFAULTS.psiAlert()))
          .as("worst PSI %.4f of %d clean days of %d rows for %s", worst, days, rows, b.feature()).isEqualTo("ok");
    }
  }

  @ParameterizedTest(name = "{0} rows")
  @CsvSource({"2000", "20000", "1000000"})
  void theSameThresholdsFlagARealShift(long rows) {
    SplittableRandom random = new SplittableRandom(7);
    // The numeric's scale doubles: the lower half of the values lands in the upper bins.
    FeatureBaseline n = numeric();
    Map<String, Double> scaled = new LinkedHashMap<>();
    for (int i = 0; i < 10; i++) {
      scaled.put(String.valueOf(i), i < 5 ? 0.098 * 0.2 : 0.098 * 1.8);
    }
    scaled.put(Drift.NULL, 0.02);
    assertEquals("alert", Drift.status(Drift.stability(n, draw(scaled, rows, random), DEFAULTS.minBinRows()).psi(),
        DEFAULTS.psiWarn(), DEFAULTS.psiAlert()));
    // A new category takes a fifth of the rows: the unseen bin, never merged away, carries it.
    FeatureBaseline c = categorical();
    Map<String, Double> mixed = new LinkedHashMap<>();
    c.shares().forEach((bin, share) -> mixed.put(bin, share * 0.8));
    mixed.merge(Drift.UNSEEN, 0.2, Double::sum);
    Drift.Stability s = Drift.stability(c, draw(mixed, rows, random), DEFAULTS.minBinRows());
    assertThat(s.unseenShare()).isBetween(0.2, 0.25);
    assertEquals("alert", Drift.status(s.psi(), DEFAULTS.psiWarn(), DEFAULTS.psiAlert()));
  }

  @ParameterizedTest(name = "{0} rows")
  @CsvSource({"50, 1", "250, 2", "1000, 5", "100000, 11"})
  void binsAreMergedToExpectTheMinimumRows(long rows, int bins) {
    Drift.Stability s = Drift.stability(numeric(), draw(numeric().shares(), rows, new SplittableRandom(3)),
        DEFAULTS.minBinRows());
    // The ten deciles merged to groups expecting >= min-bin-rows (100 by default); the null bin (2%) stands apart
    // only once it expects that many rows itself, and until then joins the last group.
    assertEquals(bins, s.bins());
  }
}
