package io.nightscore.tools.bench;

import java.awt.Color;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** The benchmark's outputs: the printed table, bench.tsv, two plots and the one-line summary. */
final class BenchReport {
  private BenchReport() {}

  static void write(BenchJob.Result r, BenchJob.Options o, int threads, Path dir, PrintStream out) {
    Map<String, String> figures = BenchJob.figures(r, o, threads);
    StringBuilder tsv = new StringBuilder("figure\tvalue\n");
    figures.forEach((k, v) -> tsv.append(k).append('\t').append(v).append('\n'));
    BenchJob.writeText(dir.resolve("bench.tsv"), tsv.toString());
    chart(dir.resolve("throughput.png"), throughput(r));
    chart(dir.resolve("breakdown.png"), breakdown(r));

    BenchJob.Breakdown b = r.breakdown();
    out.printf(Locale.ROOT, "%n%-44s %14s %14s%n", "measurement", "value", "rows/s");
    line(out, "score end to end (Delta in -> Delta out)", r.scoreSeconds(), r.scoreRows());
    line(out, "  scan (Delta decode of the read columns)", b.scan(), r.scoreRows());
    line(out, "  model inputs + prediction (one pass)", b.predict(), r.scoreRows());
    line(out, "  write (Delta) and job overhead", b.write(), r.scoreRows());
    line(out, "native Booster.predict, same rows in memory", r.nativeSeconds(), r.scoreRows());
    line(out, "stock model.transform, Delta in -> Delta out", r.stockSeconds(), r.scoreRows());
    line(out, "retrain fit (" + r.rounds() + " rounds), best of " + r.trainRuns().size(), r.trainSeconds(),
        r.trainRows());
    line(out, "  its input rows alone (read, encode, layout)", r.trainPrepSeconds(), r.trainRows());
    line(out, "Python XGBoost DMatrix + train, best of " + r.pythonRuns().size(), r.pythonSeconds(), r.trainRows());
    out.printf(Locale.ROOT, "  runs in turn, fit / Python: %s / %s s%n", seconds(r.trainRuns()),
        seconds(r.pythonRuns()));
    line(out, "retrain fit, negatives sampled at " + o.samplingRate(), r.sampledTrainSeconds(), r.trainRows());
    for (BenchJob.Scale s : r.scaling()) {
      out.printf(Locale.ROOT, "%-44s %12.2f s %14.0f   peak %s %.0f MB%n", "scale " + s.rows() + " rows"
          + (o.launcher() == null ? " (in-process)" : " (own JVM, heap " + o.childHeap() + ")"), s.seconds(),
          s.rows() / s.seconds(), s.memory(), s.peakMb());
    }
    if (!r.marginDays().isEmpty()) {
      BenchJob.Scale before = r.marginDays().get(0);
      BenchJob.Scale big = r.marginDays().get(1);
      out.printf(Locale.ROOT, "%-44s %12.2f s %14.0f   %.3g x native prediction%n", "  rows " + size(before.rows())
          + " -> " + size(big.rows()) + " (the margin)", big.seconds() - before.seconds(), r.marginalRowsPerSecond(),
          r.marginalVsNative());
    }
    out.printf(Locale.ROOT, "negative sampling at %.2f: training %.2fx faster (one retrain each), holdout log loss "
        + "%.5f -> %.5f (%s)%n",
        o.samplingRate(), r.retrainSeconds() / r.sampledTrainSeconds(), r.logLoss(), r.sampledLogLoss(),
        figures.get("logloss_change"));
    double gib = r.bytesPerRow() * 1e9 / (1L << 30);
    out.printf(Locale.ROOT, "events on disk: %.1f bytes/row -> %.0f GiB for 1e9 rows/day = %d input partitions of "
        + "512 MiB%n", r.bytesPerRow(), gib, (long) Math.ceil(gib * 2));
    out.printf(Locale.ROOT, "table, bench.tsv, throughput.png, breakdown.png in %s%n", dir);
    out.printf(Locale.ROOT, "scoring_vs_native=%.4g training_vs_python=%.4g scaling_%s_vs_%s=%.4g memory_%s_vs_%s=%.4g "
        + "scoring_vs_stock_transform=%.4g%n",
        r.scoringVsNative(), r.trainingVsPython(), size(r.scaling().get(r.scaling().size() - 1).rows()),
        size(r.scaling().get(0).rows()), r.scalingRatio(), size(r.scaling().get(r.scaling().size() - 1).rows()),
        size(r.scaling().get(0).rows()), r.memoryRatio(), r.scoringVsStockTransform());
  }

  /** "9.61, 8.87, 9.02". */
  private static String seconds(java.util.List<Double> runs) {
    return runs.stream().map(v -> String.format(Locale.ROOT, "%.2f", v))
        .collect(java.util.stream.Collectors.joining(", "));
  }

  /** 16000000 -> 16M, 4000 -> 4k (the summary line names the sizes it compares). */
  static String size(long rows) {
    if (rows >= 1_000_000 && rows % 1_000_000 == 0) {
      return rows / 1_000_000 + "M";
    }
    if (rows >= 1_000 && rows % 1_000 == 0) {
      return rows / 1_000 + "k";
    }
    return String.valueOf(rows);
  }

  private static void line(PrintStream out, String what, double seconds, long rows) {
    out.printf(Locale.ROOT, "%-44s %12.2f s %14.0f%n", what, seconds, rows / seconds);
  }

  static JFreeChart throughput(BenchJob.Result r) {
    XYSeries s = new XYSeries("score (rows/s)");
    r.scaling().forEach(p -> s.add(p.rows() / 1e6, p.rows() / p.seconds()));
    XYSeries m = new XYSeries("peak memory (MB, " + r.scaling().get(0).memory() + ")");
    r.scaling().forEach(p -> m.add(p.rows() / 1e6, p.peakMb()));
    XYSeriesCollection data = new XYSeriesCollection(s);
    data.addSeries(m);
    return ChartFactory.createXYLineChart("Scoring throughput and memory vs rows", "rows (millions)",
        "rows/s | MB", data, PlotOrientation.VERTICAL, true, false, false);
  }

  static JFreeChart breakdown(BenchJob.Result r) {
    DefaultCategoryDataset d = new DefaultCategoryDataset();
    BenchJob.Breakdown b = r.breakdown();
    d.addValue(b.scan(), "seconds", "scan");
    d.addValue(b.predict(), "seconds", "inputs + predict");
    d.addValue(b.write(), "seconds", "write");
    d.addValue(r.nativeSeconds(), "seconds", "native predict");
    return ChartFactory.createBarChart("Scoring " + r.scoreRows() + " rows: time by part", "part", "seconds", d,
        PlotOrientation.VERTICAL, false, false, false);
  }

  private static void chart(Path file, JFreeChart chart) {
    chart.getPlot().setBackgroundPaint(Color.WHITE);
    try {
      ChartUtils.saveChartAsPNG(file.toFile(), chart, 900, 500);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }
}
