package io.nightscore.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nightscore.testing.SparkTestBase;
import io.nightscore.tools.bench.BenchJob;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** A tiny run of the benchmark: every measurement runs, the table, summary line and plots come out. */
class BenchIT extends SparkTestBase {

  static boolean pythonXGBoost() {
    try {
      Process p = new ProcessBuilder("/usr/bin/python3", "-c", "import xgboost, pandas").start();
      return p.waitFor() == 0;
    } catch (Exception e) {
      return false;
    }
  }

  @Test
  void tinyBenchMeasuresEverythingAndWritesItsOutputs() throws Exception {
    Path out = scratch.resolve("bench");
    boolean python = pythonXGBoost();
    List<String> args = new java.util.ArrayList<>(List.of("bench", "--rows", "3000", "--sizes", "3000,6000",
        "--rounds", "10", "--repeats", "2", "--in-process", "--out", out.toString(), "--train-script",
        "../bin/bench_train.py"));
    if (!python) {
      args.add("--no-python");
    }
    Cli.Run r = Cli.run(spark, List.of("--conf", "nightscore.features.min-category-count=5"),
        args.toArray(new String[0]));
    assertEquals(0, r.code(), r.out() + r.err());
    String last = r.out().strip().lines().reduce((a, b) -> b).orElseThrow();
    Matcher m = Pattern.compile("scoring_vs_native=(\\S+) training_vs_python=(\\S+) scaling_6k_vs_3k=(\\S+) "
        + "memory_6k_vs_3k=(\\S+) scoring_vs_stock_transform=(\\S+)").matcher(last);
    assertThat(m.matches()).as(last).isTrue();
    assertThat(Double.parseDouble(m.group(1))).isGreaterThan(0);
    assertThat(Double.parseDouble(m.group(3))).isGreaterThan(0);
    assertThat(Double.parseDouble(m.group(4))).isGreaterThan(0);
    assertThat(Double.parseDouble(m.group(5))).as("the stock transform peer was timed").isGreaterThan(0);
    assertThat(Double.isNaN(Double.parseDouble(m.group(2)))).isEqualTo(!python);

    Map<String, String> tsv = Files.readAllLines(out.resolve("bench.tsv")).stream().skip(1)
        .map(l -> l.split("\t")).collect(Collectors.toMap(a -> a[0], a -> a[1]));
    assertThat(Long.parseLong(tsv.get("score_rows"))).isBetween(2900L, 3000L);
    assertThat(tsv).containsKeys("native_predict_seconds", "stock_transform_seconds", "scan_seconds", "predict_seconds", "write_seconds",
        "sampled_train_seconds", "logloss_change", "events_bytes_per_row", "scale_6000_peak_heap_mb",
        "score_marginal_rows_per_second", "score_marginal_vs_native");
    assertThat(r.out()).containsPattern("rows 3k -> 6k \\(the margin\\) +-?[0-9.]+ s");
    assertThat(Long.parseLong(tsv.get("train_rows"))).isBetween(2900L, 3000L);
    assertThat(Double.parseDouble(tsv.get("events_bytes_per_row"))).isBetween(20.0, 2000.0);
    for (String png : List.of("throughput.png", "breakdown.png")) {
      assertThat(Files.size(out.resolve(png))).as(png).isGreaterThan(1000);
    }
    assertThat(r.out()).contains("negative sampling at 0.10: training").contains("score end to end");
    Matcher runs = Pattern.compile("runs in turn, fit / Python: ([0-9.]+), ([0-9.]+) / (?:([0-9.]+), ([0-9.]+))? s")
        .matcher(r.out());
    assertThat(runs.find()).as("two training runs of each side, in turn").isTrue();
    assertThat(runs.group(3) != null).as("Python's runs printed").isEqualTo(python);
    assertThat(Double.parseDouble(tsv.get("train_seconds"))).as("the best of the fits compared")
        .isCloseTo(Math.min(Double.parseDouble(runs.group(1)), Double.parseDouble(runs.group(2))), within(0.006));
    assertThat(Double.parseDouble(tsv.get("retrain_train_seconds"))).as("the retrain's own fit, the first run")
        .isCloseTo(Double.parseDouble(runs.group(1)), within(0.006));
    if (python) {
      assertThat(Double.parseDouble(tsv.get("python_train_seconds"))).as("the best of Python's runs")
          .isCloseTo(Math.min(Double.parseDouble(runs.group(3)), Double.parseDouble(runs.group(4))), within(0.006));
    }

    // A second run empties its own folder; a folder bench did not write is refused.
    Path foreign = scratch.resolve("foreign");
    Files.createDirectories(foreign);
    Files.writeString(foreign.resolve("keep.txt"), "mine");
    Cli.Run refused = Cli.run(spark, List.of(), "bench", "--in-process", "--out", foreign.toString());
    assertEquals(2, refused.code());
    assertThat(refused.err()).contains("not empty and was not written by bench");
    assertThat(Files.readString(foreign.resolve("keep.txt"))).isEqualTo("mine");
  }

  /** The margin and the scaling ratio read the last sizes as the largest: sizes out of order are refused. */
  @Test
  void sizesMustComeSmallestFirst() {
    Path out = scratch.resolve("bench-unsorted");
    Cli.Run r = Cli.run(spark, List.of(), "bench", "--rows", "3000", "--sizes", "6000,3000", "--in-process",
        "--no-python", "--out", out.toString());
    assertEquals(2, r.code(), r.out() + r.err());
    assertThat(r.err()).contains("smallest first").contains("sizes=[6000, 3000]");
    assertThat(out).doesNotExist();
  }

  /** The margin: what the largest day added over the one before it, so each job's own fixed costs cancel. */
  @Test
  void theMarginIsTheLargestDaysExtraRowsOverItsExtraSeconds() {
    // 2M rows in 6 s, 8M in 12 s, 16M in 18 s (1 µs a row from 2M to 8M, 0.75 µs after); native: 2M in 1 s.
    List<BenchJob.Scale> days = List.of(new BenchJob.Scale(2_000_000, 6, 100, "RSS"),
        new BenchJob.Scale(8_000_000, 12, 100, "RSS"), new BenchJob.Scale(16_000_000, 18, 100, "RSS"));
    BenchJob.Result r = result(days);
    assertThat(r.marginalRowsPerSecond()).as("8M rows more in 6 s more").isCloseTo(8e6 / 6, within(1e-6));
    assertThat(r.marginalVsNative()).isCloseTo(8e6 / 6 / 2e6, within(1e-12));
    assertThat(r.scalingRatio()).as("whole jobs per row: the fixed cost spread").isCloseTo(18 / 16.0 / 3, within(1e-12));

    assertThat(result(days.subList(0, 1)).marginalRowsPerSecond()).as("one day has no margin").isNaN();
    assertThat(result(List.of(days.get(1), new BenchJob.Scale(16_000_000, 11, 100, "RSS"))).marginalRowsPerSecond())
        .as("a larger day that took less time (noise at tiny sizes)").isNaN();
  }

  private static BenchJob.Result result(List<BenchJob.Scale> scaling) {
    return new BenchJob.Result(2_000_000, 4, 1, 8, new BenchJob.Breakdown(1, 1, 1), 1, 1, 1, List.of(1.0),
        List.of(1.0), 1, 10, 1000, 1, 0.05, 0.05, scaling, 100);
  }
}
