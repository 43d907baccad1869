package io.nightscore.tools.bench;

import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.data.category.DefaultCategoryDataset;

/**
 * The bench's results history: one row per figure of each recorded run (commit, date, machine, figure, value),
 * appended to a TSV kept in the repository, and a plot of the headline ratios run by run.
 */
public final class BenchHistory {
  static final String HEADER = "commit\tdate\tmachine\tfigure\tvalue";
  /** The ratios the targets are stated in, in the order of the bench's last line. */
  static final List<String> HEADLINE = List.of("scoring_vs_native", "training_vs_python", "scaling_ratio",
      "memory_ratio", "scoring_vs_stock_transform");

  private BenchHistory() {}

  /** The headline ratios of a run, by the names {@link #HEADLINE} uses. */
  static Map<String, String> headline(BenchJob.Result r) {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("scoring_vs_native", BenchJob.fmt(r.scoringVsNative()));
    f.put("training_vs_python", BenchJob.fmt(r.trainingVsPython()));
    f.put("scaling_ratio", BenchJob.fmt(r.scalingRatio()));
    f.put("memory_ratio", BenchJob.fmt(r.memoryRatio()));
    f.put("scoring_vs_stock_transform", BenchJob.fmt(r.scoringVsStockTransform()));
    return f;
  }

  /** "2 cores, 24 GiB, Linux amd64": what the figures were measured on. */
  static String machine() {
    long bytes = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
        .getOperatingSystemMXBean()).getTotalMemorySize();
    return String.format(Locale.ROOT, "%d cores, %d GiB, %s %s", Runtime.getRuntime().availableProcessors(),
        Math.round(bytes / (double) (1L << 30)), System.getProperty("os.name"), System.getProperty("os.arch"));
  }

  /** Appends every figure of one run to {@code tsv} (created with its header), then redraws {@code png}. */
  static void record(Path tsv, Path png, String commit, LocalDate date, String machine, Map<String, String> figures) {
    StringBuilder rows = new StringBuilder();
    try {
      if (!Files.exists(tsv)) {
        Files.createDirectories(tsv.toAbsolutePath().getParent());
        rows.append(HEADER).append('\n');
      }
      figures.forEach((k, v) -> rows.append(String.join("\t", commit, date.toString(), machine, k, v)).append('\n'));
      Files.writeString(tsv, rows, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      plot(read(tsv), png);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot record the bench's figures in " + tsv, e);
    }
  }

  /** The rows of a history file, header checked. */
  static List<String[]> read(Path tsv) throws IOException {
    List<String> lines = Files.readAllLines(tsv, StandardCharsets.UTF_8);
    if (lines.isEmpty() || !lines.get(0).equals(HEADER)) {
      throw new IllegalArgumentException(tsv + " is not a bench history: its first line must be '" + HEADER + "'");
    }
    List<String[]> rows = new ArrayList<>();
    for (String line : lines.subList(1, lines.size())) {
      if (!line.isBlank()) {
        rows.add(line.split("\t", -1));
      }
    }
    return rows;
  }

  /** The headline ratios of every recorded run, one group per run (its date and commit), as a bar chart. */
  static void plot(List<String[]> rows, Path png) throws IOException {
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    for (String[] r : rows) {
      if (r.length == 5 && HEADLINE.contains(r[3]) && !r[4].equals("NaN")) {
        String run = r[1] + " " + r[0].substring(0, Math.min(7, r[0].length()));
        data.addValue(Double.parseDouble(r[4]), r[3], run);
      }
    }
    JFreeChart chart = ChartFactory.createBarChart("nightscore bench, run by run (bin/nightscore bench --record)",
        "run (date, commit)", "ratio", data, PlotOrientation.VERTICAL, true, false, false);
    chart.setBackgroundPaint(Color.WHITE);
    ChartUtils.saveChartAsPNG(png.toFile(), chart, 1000, 500);
  }
}
