package io.nightscore.jobs.monitor;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.log10;

import io.nightscore.common.table.Table;
import io.nightscore.common.table.TextFiles;
import io.nightscore.common.table.Warehouse;
import io.nightscore.jobs.retrain.ModelReport;
import java.awt.Color;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.DateAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.LookupPaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.data.xy.DefaultXYZDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The monitoring page ({@code <warehouse>/monitoring/index.html}, one self-contained file rebuilt by every
 * {@code monitor}): a feature x day heat map of PSI, the score distribution by day, realized AUC and calibration
 * by day and model version, and the table of recent alerts. Drawn with JFreeChart, like the model report.
 */
public final class MonitorPage {
  /** Days the page shows, ending with the monitored day. */
  static final int DAYS = 30;
  /** Scored days whose score distribution is drawn. */
  static final int DISTRIBUTION_DAYS = 7;

  private MonitorPage() {}

  public static String path(Warehouse warehouse) {
    return warehouse.root() + "/monitoring/index.html";
  }

  public static String write(SparkSession spark, Warehouse warehouse, LocalDate date) {
    System.setProperty("java.awt.headless", "true");
    String html = html(warehouse, date);
    String path = path(warehouse);
    TextFiles.write(spark, path, html);
    return path;
  }

  static String html(Warehouse warehouse, LocalDate date) {
    LocalDate from = date.minusDays(DAYS - 1L);
    org.apache.spark.sql.Column recent = col("dt").geq(lit(java.sql.Date.valueOf(from)))
        .and(col("dt").leq(lit(java.sql.Date.valueOf(date))));
    List<Row> drift = warehouse.exists(Table.MONITOR_DRIFT) ? warehouse.read(Table.MONITOR_DRIFT).where(recent)
        .select("dt", "feature", "psi", "status", "model_version", "null_share", "unseen_share", "mean",
            "baseline_mean").orderBy("dt", "feature").collectAsList() : List.of();
    List<Row> quality = warehouse.exists(Table.MONITOR_QUALITY) ? warehouse.read(Table.MONITOR_QUALITY).where(recent)
        .select("dt", "model_version", "scorer", "auc", "calibration", "status", "labelled_rows", "positives",
            "mature", "detail").orderBy("dt", "model_version", "scorer").collectAsList() : List.of();
    StringBuilder h = new StringBuilder();
    h.append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>nightscore monitoring ").append(date)
        .append("</title><style>body{font-family:sans-serif;margin:2em;max-width:1400px}"
            + "table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:3px 8px;"
            + "text-align:right}th{background:#eee}td.l{text-align:left}img{margin:4px;border:1px solid #ddd}"
            + ".alert{background:#f8c4c4}.warn{background:#fbe7b5}</style></head><body>");
    h.append("<h1>nightscore monitoring, ").append(from).append(" .. ").append(date).append("</h1>");
    h.append("<h2>Alerts and warnings</h2><table><tr><th>dt</th><th>what</th><th>status</th><th>figures</th></tr>");
    int flagged = 0;
    for (Row r : drift) {
      if (!r.getString(3).equals("ok")) {
        flagged++;
        h.append(String.format(Locale.ROOT, "<tr class=\"%s\"><td>%s</td><td class=l>drift of %s (model v%d)</td>"
                + "<td>%s</td><td class=l>PSI %.3f</td></tr>", r.getString(3), r.getDate(0),
            ModelReport.escape(r.getString(1)), r.getLong(4), r.getString(3), r.isNullAt(2) ? Double.NaN : r.getDouble(2)));
      }
    }
    for (Row r : quality) {
      String status = r.getString(5);
      if (status.equals("alert") || status.equals("warn")) {
        flagged++;
        h.append(String.format(Locale.ROOT, "<tr class=\"%s\"><td>%s</td><td class=l>realized quality of v%d (%s)</td>"
                + "<td>%s</td><td class=l>%s</td></tr>", status, r.getDate(0), r.getLong(1), r.getString(2), status,
            ModelReport.escape(String.valueOf(r.getString(9)))));
      }
    }
    if (flagged == 0) {
      h.append("<tr><td colspan=4 class=l>none</td></tr>");
    }
    h.append("</table><h2>Plots</h2><div>");
    ModelReport.img(h, heatMap(drift));
    ModelReport.img(h, scoreDistribution(warehouse, date));
    ModelReport.img(h, byDay(quality, 3, "Realized AUC by day and model version", "AUC"));
    ModelReport.img(h, byDay(quality, 4, "Realized calibration (Σscore ÷ Σlabel) by day and model version",
        "calibration"));
    h.append("</div><h2>Realized quality</h2><table><tr><th>dt</th><th>model</th><th>scorer</th><th>labelled rows</th>"
        + "<th>positives</th><th>mature</th><th>AUC</th><th>calibration</th><th>status</th></tr>");
    for (Row r : quality) {
      h.append(String.format(Locale.ROOT, "<tr class=\"%s\"><td>%s</td><td>v%d</td><td class=l>%s</td><td>%d</td>"
              + "<td>%d</td><td>%s</td><td>%.4f</td><td>%.3f</td><td>%s</td></tr>", r.getString(5), r.getDate(0),
          r.getLong(1), r.getString(2), r.getLong(6), r.getLong(7), r.getBoolean(8),
          r.isNullAt(3) ? Double.NaN : r.getDouble(3), r.isNullAt(4) ? Double.NaN : r.getDouble(4), r.getString(5)));
    }
    h.append("</table></body></html>");
    return h.toString();
  }

  /** PSI per feature (rows) and day (columns): white stable, yellow moderate, red significant. */
  static JFreeChart heatMap(List<Row> drift) {
    TreeSet<String> features = new TreeSet<>();
    TreeSet<LocalDate> days = new TreeSet<>();
    for (Row r : drift) {
      features.add(r.getString(1));
      days.add(r.getDate(0).toLocalDate());
    }
    List<String> f = new ArrayList<>(features);
    List<LocalDate> d = new ArrayList<>(days);
    int n = drift.size();
    double[][] xyz = new double[3][n];
    for (int i = 0; i < n; i++) {
      Row r = drift.get(i);
      xyz[0][i] = d.indexOf(r.getDate(0).toLocalDate());
      xyz[1][i] = f.indexOf(r.getString(1));
      xyz[2][i] = r.isNullAt(2) ? 0 : r.getDouble(2);
    }
    DefaultXYZDataset data = new DefaultXYZDataset();
    data.addSeries("PSI", xyz);
    SymbolAxis x = new SymbolAxis("day", d.stream().map(LocalDate::toString).toArray(String[]::new));
    x.setVerticalTickLabels(true);
    SymbolAxis y = new SymbolAxis("feature", f.toArray(new String[0]));
    XYBlockRenderer renderer = new XYBlockRenderer();
    LookupPaintScale scale = new LookupPaintScale(0, 100, Color.WHITE);
    scale.add(0.0, new Color(0xf4, 0xf4, 0xf4));
    scale.add(0.05, new Color(0xd8, 0xe8, 0xd0));
    scale.add(0.1, new Color(0xfb, 0xe7, 0xb5));
    scale.add(0.25, new Color(0xe8, 0x6a, 0x6a));
    scale.add(1.0, new Color(0xa0, 0x10, 0x10));
    renderer.setPaintScale(scale);
    XYPlot plot = new XYPlot(data, x, y, renderer);
    JFreeChart chart = new JFreeChart("Drift: PSI by feature and day (yellow >= 0.1, red >= 0.25)",
        JFreeChart.DEFAULT_TITLE_FONT, plot, false);
    NumberAxis legendAxis = new NumberAxis("PSI");
    legendAxis.setRange(0, 1);
    PaintScaleLegend legend = new PaintScaleLegend(scale, legendAxis);
    legend.setPosition(org.jfree.chart.ui.RectangleEdge.RIGHT);
    chart.addSubtitle(legend);
    return chart;
  }

  /** Share of each recent scored day's rows per score bin (5 per decade). */
  static JFreeChart scoreDistribution(Warehouse warehouse, LocalDate date) {
    XYSeriesCollection data = new XYSeriesCollection();
    if (warehouse.exists(Table.SCORES)) {
      List<Row> rows = warehouse.read(Table.SCORES)
          .where(col("dt").gt(lit(java.sql.Date.valueOf(date.minusDays(DISTRIBUTION_DAYS))))
              .and(col("dt").leq(lit(java.sql.Date.valueOf(date)))))
          .select(col("dt"), floor(log10(greatest(col("score"), lit(1e-6)))
              .multiply(5)).cast("int").as("bin"))
          .groupBy("dt", "bin").agg(count(lit(1))).orderBy("dt", "bin").collectAsList();
      Map<LocalDate, Map<Integer, Long>> byDay = new TreeMap<>();
      for (Row r : rows) {
        byDay.computeIfAbsent(r.getDate(0).toLocalDate(), k -> new TreeMap<>()).put(r.getInt(1), r.getLong(2));
      }
      byDay.forEach((day, bins) -> {
        long total = bins.values().stream().mapToLong(Long::longValue).sum();
        XYSeries s = new XYSeries(day.toString(), false);
        bins.forEach((bin, c) -> s.add(Math.pow(10, (bin + 0.5) / 5), (double) c / total));
        data.addSeries(s);
      });
    }
    JFreeChart chart = ChartFactory.createXYLineChart("Score distribution by day (last " + DISTRIBUTION_DAYS
        + " scored days)", "score", "share of the day's rows", data, PlotOrientation.VERTICAL, true, false, false);
    org.jfree.chart.axis.LogAxis axis = new org.jfree.chart.axis.LogAxis("score");
    axis.setSmallestValue(1e-6);
    chart.getXYPlot().setDomainAxis(axis);
    return chart;
  }

  /** Column {@code field} of the quality rows by day, one series per model version and scorer. */
  static JFreeChart byDay(List<Row> quality, int field, String title, String label) {
    Map<String, XYSeries> series = new TreeMap<>();
    for (Row r : quality) {
      if (r.isNullAt(field)) {
        continue;
      }
      String name = "v" + r.getLong(1) + " " + r.getString(2) + (r.getBoolean(8) ? "" : " (provisional)");
      series.computeIfAbsent(name, k -> new XYSeries(k, false))
          .add(r.getDate(0).toLocalDate().toEpochDay() * 86_400_000.0, r.getDouble(field));
    }
    XYSeriesCollection data = new XYSeriesCollection();
    series.values().forEach(data::addSeries);
    JFreeChart chart = ChartFactory.createXYLineChart(title, "day", label, data, PlotOrientation.VERTICAL, true,
        false, false);
    chart.getXYPlot().setDomainAxis(new DateAxis("day"));
    ((NumberAxis) chart.getXYPlot().getRangeAxis()).setAutoRangeIncludesZero(false);
    chart.getXYPlot().setRenderer(new XYLineAndShapeRenderer(true, true));
    return chart;
  }
}
