package io.nightscore.jobs.retrain;

import io.nightscore.common.registry.MetricsTable;
import io.nightscore.common.registry.ModelRecord;
import io.nightscore.common.table.TextFiles;
import io.nightscore.common.table.Warehouse;
import io.nightscore.model.quality.BinaryMetrics;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTML report of one model version, written next to its artifacts ({@code <artifacts>/report/index.html},
 * one self-contained file): lineage, parameters, every row of {@code model_metrics} for the version, and
 * plots drawn with JFreeChart — ROC curve, reliability diagram, feature importance (gain), score
 * distribution by label, and log loss per boosting round.
 */
public final class ModelReport {
  private static final Logger LOG = LoggerFactory.getLogger(ModelReport.class);
  private static final int WIDTH = 640;
  private static final int HEIGHT = 420;
  private static final int TOP_FEATURES = 25;

  private ModelReport() {}

  /** Builds the report of {@code record} from the tables and writes it; returns its path. */
  public static String write(SparkSession spark, Warehouse warehouse, ModelRecord record) {
    System.setProperty("java.awt.headless", "true");
    List<MetricsTable.Entry> metrics = MetricsTable.read(warehouse, record.version());
    String html = html(record, metrics);
    TextFiles.write(spark, record.reportPath(), html);
    LOG.info("model v{}: report written to {}", record.version(), record.reportPath());
    return record.reportPath();
  }

  static String html(ModelRecord r, List<MetricsTable.Entry> metrics) {
    StringBuilder h = new StringBuilder();
    h.append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>nightscore model v").append(r.version())
        .append("</title><style>body{font-family:sans-serif;margin:2em;max-width:1400px}"
            + "table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:3px 8px;"
            + "text-align:right}th{background:#eee}td.l{text-align:left}img{margin:4px;border:1px solid #ddd}"
            + "</style></head><body>");
    h.append("<h1>nightscore model v").append(r.version()).append("</h1>");
    h.append("<table>");
    row(h, "created", r.createdAt());
    row(h, "recipe", r.recipe());
    row(h, "training window", r.trainStart() + " .. " + r.trainEnd() + " (" + r.trainRows() + " rows)");
    row(h, "holdout day", r.holdoutDate() + " (evaluation half: " + r.holdoutRows() + " rows, "
        + r.holdoutPositives() + " positives)");
    row(h, "events table version", r.eventsVersion());
    row(h, "rounds", r.numRounds() + " (best " + r.bestIteration() + ")");
    row(h, "calibration", r.calibration());
    row(h, "nightscore / XGBoost", r.nightscoreVersion() + " / " + r.xgboostVersion());
    row(h, "artifacts", r.artifactPath());
    row(h, "parameters", r.params());
    h.append("</table>");

    h.append("<h2>Metrics</h2><table><tr><th>dataset</th><th>dt</th><th>scorer</th><th>rows</th><th>positives</th>"
        + "<th>AUC</th><th>PR-AUC</th><th>log loss</th><th>NE</th><th>Σscore/Σlabel</th><th>ECE</th></tr>");
    for (MetricsTable.Entry e : metrics) {
      BinaryMetrics m = e.metrics();
      h.append(String.format(Locale.ROOT, "<tr><td class=l>%s</td><td>%s</td><td class=l>%s</td><td>%d</td><td>%d</td>"
              + "<td>%.4f</td><td>%.4f</td><td>%.5f</td><td>%.4f</td><td>%.3f</td><td>%.5f</td></tr>",
          e.dataset(), e.dt(), e.scorer(), m.rows(), m.positives(), m.auc(), m.prAuc(), m.logLoss(),
          m.normalizedEntropy(), m.calibrationRatio(), m.ece()));
    }
    h.append("</table>");

    h.append("<h2>Plots</h2><div>");
    img(h, roc(metrics));
    img(h, reliability(metrics));
    img(h, distribution(metrics));
    img(h, curve(r));
    img(h, importance(r));
    h.append("</div>");
    h.append("<h2>Reliability tables</h2>");
    for (MetricsTable.Entry e : metrics) {
      h.append("<h3>").append(label(e)).append("</h3><table><tr><th>probability bin</th><th>rows</th>"
          + "<th>positives</th><th>mean predicted</th><th>observed rate</th></tr>");
      for (BinaryMetrics.Bin b : e.metrics().reliability()) {
        h.append(String.format(Locale.ROOT, "<tr><td>[%.5f, %.5f)</td><td>%d</td><td>%d</td><td>%.5f</td>"
                + "<td>%.5f</td></tr>", b.lower(), b.upper(), b.count(), b.positives(), b.meanPredicted(),
            b.observedRate()));
      }
      h.append("</table>");
    }
    h.append("</body></html>");
    return h.toString();
  }

  private static void row(StringBuilder h, String key, Object value) {
    h.append("<tr><th>").append(key).append("</th><td class=l>").append(escape(String.valueOf(value)))
        .append("</td></tr>");
  }

  /** {@code s} as HTML text. */
  public static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;")
        .replace("'", "&#39;");
  }

  private static String label(MetricsTable.Entry e) {
    return e.dataset() + " " + e.dt() + " " + e.scorer();
  }

  /** Appends {@code chart} as an inline PNG (the report and the monitoring page are single files). */
  public static void img(StringBuilder h, JFreeChart chart) {
    h.append("<img alt=\"").append(escape(chart.getTitle().getText())).append("\" src=\"data:image/png;base64,")
        .append(png(chart)).append("\">");
  }

  /** {@code chart} drawn as a PNG, base64-encoded, in the look of the report's charts. */
  public static String png(JFreeChart chart) {
    chart.getPlot().setBackgroundPaint(Color.WHITE);
    if (chart.getPlot() instanceof XYPlot xy) {
      xy.setDomainGridlinePaint(Color.LIGHT_GRAY);
      xy.setRangeGridlinePaint(Color.LIGHT_GRAY);
    } else if (chart.getPlot() instanceof org.jfree.chart.plot.CategoryPlot cat) {
      cat.setRangeGridlinePaint(Color.LIGHT_GRAY);
    }
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    try {
      ChartUtils.writeChartAsPNG(png, chart, WIDTH, HEIGHT);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot render chart " + chart.getTitle().getText(), e);
    }
    return Base64.getEncoder().encodeToString(png.toByteArray());
  }

  static JFreeChart roc(List<MetricsTable.Entry> metrics) {
    XYSeriesCollection data = new XYSeriesCollection();
    for (MetricsTable.Entry e : metrics) {
      XYSeries s = new XYSeries(String.format(Locale.ROOT, "%s (AUC %.4f)", label(e), e.metrics().auc()), false);
      s.add(0, 0);
      e.metrics().roc().forEach(p -> s.add(p.fpr(), p.tpr()));
      data.addSeries(s);
    }
    XYSeries chance = new XYSeries("chance", false);
    chance.add(0, 0);
    chance.add(1, 1);
    data.addSeries(chance);
    return ChartFactory.createXYLineChart("ROC curve", "false positive rate", "true positive rate", data,
        PlotOrientation.VERTICAL, true, false, false);
  }

  static JFreeChart reliability(List<MetricsTable.Entry> metrics) {
    XYSeriesCollection data = new XYSeriesCollection();
    double lo = 1;
    for (MetricsTable.Entry e : metrics) {
      XYSeries s = new XYSeries(String.format(Locale.ROOT, "%s (ECE %.5f)", label(e), e.metrics().ece()), false);
      for (BinaryMetrics.Bin b : e.metrics().reliability()) {
        if (b.positives() > 0 && b.meanPredicted() > 0) {
          s.add(b.meanPredicted(), b.observedRate());
          lo = Math.min(lo, Math.min(b.meanPredicted(), b.observedRate()));
        }
      }
      data.addSeries(s);
    }
    XYSeries diagonal = new XYSeries("perfect calibration", false);
    diagonal.add(Math.max(lo, 1e-6), Math.max(lo, 1e-6));
    diagonal.add(1, 1);
    data.addSeries(diagonal);
    JFreeChart chart = ChartFactory.createXYLineChart("Reliability (bins of predicted probability)",
        "mean predicted probability", "observed rate", data, PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = chart.getXYPlot();
    plot.setDomainAxis(logAxis("mean predicted probability"));
    plot.setRangeAxis(logAxis("observed rate"));
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
    plot.setRenderer(renderer);
    return chart;
  }

  private static LogAxis logAxis(String label) {
    LogAxis axis = new LogAxis(label);
    axis.setSmallestValue(1e-6);
    axis.setBase(10);
    axis.setTickUnit(new org.jfree.chart.axis.NumberTickUnit(1));
    return axis;
  }

  /** Share of each label's rows per probability bin: the two humps should separate. */
  static JFreeChart distribution(List<MetricsTable.Entry> metrics) {
    XYSeriesCollection data = new XYSeriesCollection();
    for (MetricsTable.Entry e : metrics) {
      BinaryMetrics m = e.metrics();
      XYSeries neg = new XYSeries(label(e) + ": label 0", false);
      XYSeries pos = new XYSeries(label(e) + ": label 1", false);
      long negatives = m.rows() - m.positives();
      for (BinaryMetrics.Bin b : m.reliability()) {
        double mid = b.lower() == 0 ? b.upper() / 2 : Math.sqrt(b.lower() * b.upper());
        neg.add(mid, negatives == 0 ? 0 : (double) (b.count() - b.positives()) / negatives);
        pos.add(mid, m.positives() == 0 ? 0 : (double) b.positives() / m.positives());
      }
      data.addSeries(neg);
      data.addSeries(pos);
    }
    JFreeChart chart = ChartFactory.createXYLineChart("Score distribution by label", "predicted probability",
        "share of the label's rows", data, PlotOrientation.VERTICAL, true, false, false);
    chart.getXYPlot().setDomainAxis(logAxis("predicted probability"));
    chart.getXYPlot().setRenderer(new XYLineAndShapeRenderer(true, true));
    return chart;
  }

  static JFreeChart curve(ModelRecord r) {
    XYSeriesCollection data = new XYSeriesCollection();
    data.addSeries(series("training rows", r.trainCurve()));
    data.addSeries(series("early-stopping rows (holdout tuning half)", r.tuneCurve()));
    JFreeChart chart = ChartFactory.createXYLineChart("Log loss per boosting round", "round", "log loss", data,
        PlotOrientation.VERTICAL, true, false, false);
    ValueMarker best = new ValueMarker(r.bestIteration());
    best.setPaint(Color.DARK_GRAY);
    best.setStroke(new BasicStroke(1.0f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1, new float[] {4, 4}, 0));
    best.setLabel("best round " + r.bestIteration());
    chart.getXYPlot().addDomainMarker(best);
    ((org.jfree.chart.axis.NumberAxis) chart.getXYPlot().getRangeAxis()).setAutoRangeIncludesZero(false);
    return chart;
  }

  private static XYSeries series(String name, List<Double> values) {
    XYSeries s = new XYSeries(name, false);
    for (int i = 0; i < values.size(); i++) {
      s.add(i, values.get(i));
    }
    return s;
  }

  static JFreeChart importance(ModelRecord r) {
    List<Map.Entry<String, Double>> top = new ArrayList<>(r.featureGain().entrySet());
    top.sort(Map.Entry.<String, Double>comparingByValue(Comparator.reverseOrder()));
    double total = top.stream().mapToDouble(Map.Entry::getValue).sum();
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    for (Map.Entry<String, Double> e : top.subList(0, Math.min(TOP_FEATURES, top.size()))) {
      data.addValue(total == 0 ? 0 : e.getValue() / total, "share of total gain", e.getKey());
    }
    return ChartFactory.createBarChart("Feature importance (top " + TOP_FEATURES + " by total gain)", "feature",
        "share of total gain", data, PlotOrientation.HORIZONTAL, false, false, false);
  }
}
