package io.nightscore.tools.notebook;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nightscore.common.config.Settings;
import io.nightscore.common.sql.JobFailedException;
import io.nightscore.common.sql.SqlSafety;
import io.nightscore.common.table.TextFiles;
import io.nightscore.jobs.retrain.ModelReport;
import io.nightscore.jobs.sql.SqlJob;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.commonmark.ext.gfm.tables.TablesExtension;
import org.commonmark.parser.Parser;
import org.commonmark.renderer.html.HtmlRenderer;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.data.category.DefaultCategoryDataset;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a notebook's SQL cells in order against the warehouse's catalog (the same one {@code sql} uses), and writes
 * the executed notebook as Jupyter nbformat 4 ({@code .ipynb}: tables as HTML, charts as PNG) and as a standalone
 * HTML page. Parameters are validated by their declared kind before they are substituted into the SQL text. A
 * failing cell, or a check cell that returns rows, stops the run: the pages are written up to that cell and the job
 * fails naming the notebook and the cell.
 */
public final class NotebookRunner {
  private static final Logger LOG = LoggerFactory.getLogger(NotebookRunner.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Rows of a result shown in the pages. */
  public static final int MAX_ROWS = 200;
  /** Rows of a result a chart draws; a chart over more says so in its title. */
  public static final int CHART_ROWS = 2000;

  public record Options(String file, Map<String, String> params, String out) {}

  /** What ran: the pages written, the values used, the cells run and the checks that held. */
  public record Result(String ipynb, String html, Map<String, String> values, int cellsRun, int checksPassed,
      List<String> skipped) {}

  /** One executed cell's output (null fields where it has none; {@code skipped}: why it did not run). */
  record Output(List<String> columns, List<List<String>> rows, boolean truncated, String png, String error,
      String skipped) {}

  private NotebookRunner() {}

  public static Result run(SparkSession spark, Settings settings, Options options) {
    Path file = new Path(options.file());
    String source = TextFiles.read(spark, options.file()).orElseThrow(() -> new IllegalArgumentException(
        "notebook " + options.file() + " does not exist"));
    String base = file.getName().replaceFirst("\\.sql$", "");
    Notebook nb = Notebook.parse(file.getName(), source);
    Map<String, String> values = values(nb, settings, options.params());
    String outDir = options.out() != null ? options.out() : settings.warehouse() + "/notebooks";
    SqlSafety.checkPath(outDir, "--out");

    List<Output> outputs = new ArrayList<>();
    List<String> skipped = new ArrayList<>();
    int checks = 0;
    String failure = null;
    for (Notebook.Cell cell : nb.cells()) {
      if (cell.kind() != Notebook.Kind.SQL) {
        outputs.add(null);
        continue;
      }
      String sql = substitute(cell.text(), values);
      spark.sparkContext().setJobDescription(nb.name() + " cell " + cell.number());
      List<String> missing = cell.requires().stream()
          .filter(t -> !spark.catalog().tableExists(values.getOrDefault("database", settings.database()), t)).toList();
      if (!missing.isEmpty()) {
        String why = "skipped: needs " + String.join(", ", missing) + ", which this warehouse does not have yet";
        outputs.add(new Output(null, null, false, null, null, why));
        skipped.add("cell " + cell.number() + " (" + String.join(", ", missing) + ")");
        continue;
      }
      try {
        Dataset<Row> last = null;
        for (String statement : SqlJob.split(sql)) {
          last = spark.sql(statement);
        }
        Output out = last == null ? new Output(List.of(), List.of(), false, null, null, null)
            : output(last, cell);
        outputs.add(out);
        if ("empty".equals(cell.check())) {
          if (!out.rows().isEmpty()) {
            failure = nb.name() + ", cell " + cell.number() + ": a check cell returned " + (out.truncated()
                ? "more than " + MAX_ROWS : String.valueOf(out.rows().size())) + " rows, expected none; first: "
                + String.join(", ", out.rows().get(0));
            break;
          }
          checks++;
        }
      } catch (Exception e) {
        // Spark's AnalysisException is checked in Scala's eyes only; its simple message leaves out the plan.
        String message = e instanceof org.apache.spark.sql.AnalysisException a ? a.getSimpleMessage()
            : e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        outputs.add(new Output(null, null, false, null, message, null));
        failure = nb.name() + ", cell " + cell.number() + ": " + message;
        break;
      }
    }
    String ipynb = outDir + "/" + base + ".ipynb";
    String html = outDir + "/" + base + ".html";
    TextFiles.write(spark, ipynb, ipynb(nb, values, outputs));
    TextFiles.write(spark, html, html(nb, values, outputs));
    if (failure != null) {
      throw new JobFailedException(failure + " (pages up to that cell: " + html + ")");
    }
    int run = (int) outputs.stream().filter(o -> o != null && o.skipped() == null).count();
    LOG.info("notebook {}: {} SQL cells run, {} checks held, skipped {}; {} and {}", nb.name(), run, checks, skipped,
        ipynb, html);
    return new Result(ipynb, html, values, run, checks, List.copyOf(skipped));
  }

  /**
   * The value of every declared parameter: {@code given}, else the widget's default ({@code database}: the
   * configured database), validated by its kind. Names not declared are refused.
   */
  public static Map<String, String> values(Notebook nb, Settings settings, Map<String, String> given) {
    for (String name : given.keySet()) {
      if (!nb.params().containsKey(name)) {
        throw new IllegalArgumentException(nb.name() + " has no parameter '" + name + "' (it declares "
            + nb.params().keySet() + ")");
      }
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Notebook.Param p : nb.params().values()) {
      String v = given.containsKey(p.name()) ? given.get(p.name())
          : p.name().equals("database") ? settings.database() : p.defaultValue();
      String what = "parameter " + p.name() + " of " + nb.name();
      switch (p.kind()) {
        case DATE -> {
          if (!v.isEmpty()) {
            SqlSafety.parseDate(v, what);
          }
        }
        case IDENTIFIER -> SqlSafety.checkIdentifier(v, what);
        case CATEGORICAL -> {
          if (!settings.schema().categorical().contains(v)) {
            throw new IllegalArgumentException(what + " must be a categorical feature of the schema "
                + settings.schema().categorical() + ", got '" + v + "'");
          }
        }
        case NUMERIC -> {
          if (!settings.schema().numeric().contains(v)) {
            throw new IllegalArgumentException(what + " must be a numeric feature of the schema "
                + settings.schema().numeric() + ", got '" + v + "'");
          }
        }
        case INTEGER -> {
          if (!v.matches("-?[0-9]{1,18}")) {
            throw new IllegalArgumentException(what + " must be a whole number, got '" + v + "'");
          }
        }
        default -> throw new IllegalStateException(p.kind().toString());
      }
      out.put(p.name(), v);
    }
    return out;
  }

  /** {@code sql} with every {@code ${name}} replaced by its validated value. */
  public static String substitute(String sql, Map<String, String> values) {
    String out = sql;
    for (Map.Entry<String, String> e : values.entrySet()) {
      out = out.replace("${" + e.getKey() + "}", e.getValue());
    }
    return out;
  }

  private static Output output(Dataset<Row> result, Notebook.Cell cell) {
    List<String> columns = List.of(result.columns());
    List<Row> rows = result.limit((cell.chart() == null ? MAX_ROWS : CHART_ROWS) + 1).collectAsList();
    List<List<String>> text = new ArrayList<>();
    for (Row r : rows.subList(0, Math.min(rows.size(), MAX_ROWS))) {
      List<String> line = new ArrayList<>();
      for (int i = 0; i < r.length(); i++) {
        line.add(r.isNullAt(i) ? "null" : String.valueOf(r.get(i)));
      }
      text.add(line);
    }
    String png = cell.chart() == null ? null : ModelReport.png(chart(cell, columns,
        rows.subList(0, Math.min(rows.size(), CHART_ROWS)), rows.size() > CHART_ROWS));
    return new Output(columns, text, rows.size() > MAX_ROWS, png, null, null);
  }

  /**
   * The cell's chart hint drawn over its result rows; {@code more}: the result has rows beyond these (the title
   * says the chart shows the first ones only).
   */
  static JFreeChart chart(Notebook.Cell cell, List<String> columns, List<Row> rows, boolean more) {
    Notebook.Chart c = cell.chart();
    List<String> needed = new ArrayList<>(c.y());
    needed.add(c.x());
    if (c.series() != null) {
      needed.add(c.series());
    }
    for (String col : needed) {
      if (!columns.contains(col)) {
        throw new IllegalArgumentException("the chart names column '" + col + "', the result has " + columns);
      }
    }
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    int xi = columns.indexOf(c.x());
    int si = c.series() == null ? -1 : columns.indexOf(c.series());
    for (Row r : rows) {
      String x = String.valueOf(r.get(xi));
      for (String y : c.y()) {
        int yi = columns.indexOf(y);
        if (r.isNullAt(yi)) {
          continue;
        }
        if (!(r.get(yi) instanceof Number n)) {
          throw new IllegalArgumentException("the chart's y column '" + y + "' must be numeric, got "
              + r.get(yi).getClass().getSimpleName() + " '" + r.get(yi) + "'");
        }
        String series = si < 0 ? y : (c.y().size() > 1 ? y + " " : "") + r.get(si);
        data.addValue(n.doubleValue(), series, x);
      }
    }
    String yLabel = c.y().size() == 1 ? c.y().get(0) : "";
    String title = c.title() + (more ? " (the first " + rows.size() + " rows)" : "");
    JFreeChart chart = c.type().equals("line")
        ? ChartFactory.createLineChart(title, c.x(), yLabel, data, PlotOrientation.VERTICAL, true, false, false)
        : ChartFactory.createBarChart(title, c.x(), yLabel, data, PlotOrientation.VERTICAL, true, false, false);
    if (data.getColumnCount() > 8) {
      chart.getCategoryPlot().getDomainAxis().setCategoryLabelPositions(CategoryLabelPositions.UP_45);
    }
    return chart;
  }

  private static String ipynb(Notebook nb, Map<String, String> values, List<Output> outputs) {
    ObjectNode root = JSON.createObjectNode();
    ArrayNode cells = root.putArray("cells");
    int count = 0;
    for (int i = 0; i < nb.cells().size(); i++) {
      Notebook.Cell cell = nb.cells().get(i);
      ObjectNode c = cells.addObject();
      c.put("id", "cell-" + cell.number());
      ObjectNode metadata = c.putObject("metadata");
      if (cell.title() != null) {
        metadata.put("title", cell.title());
      }
      if (cell.kind() == Notebook.Kind.MARKDOWN) {
        c.put("cell_type", "markdown");
        lines(c.putArray("source"), cell.text());
        continue;
      }
      c.put("cell_type", "code");
      ArrayNode outs = c.putArray("outputs");
      Output out = i < outputs.size() ? outputs.get(i) : null;
      if (cell.kind() == Notebook.Kind.WIDGETS) {
        lines(c.putArray("source"), cell.text());
        c.putNull("execution_count");
        ObjectNode stream = outs.addObject();
        stream.put("output_type", "stream");
        stream.put("name", "stdout");
        StringBuilder sb = new StringBuilder();
        values.forEach((k, v) -> sb.append(k).append(" = '").append(v).append("'\n"));
        lines(stream.putArray("text"), sb.toString());
        continue;
      }
      lines(c.putArray("source"), substitute(cell.text(), values));
      if (out == null) {
        c.putNull("execution_count");
        continue;
      }
      if (out.skipped() != null) {
        c.putNull("execution_count");
        ObjectNode stream = outs.addObject();
        stream.put("output_type", "stream");
        stream.put("name", "stdout");
        stream.putArray("text").add(out.skipped());
        continue;
      }
      c.put("execution_count", ++count);
      if (out.error() != null) {
        ObjectNode e = outs.addObject();
        e.put("output_type", "error");
        e.put("ename", "SQL error");
        e.put("evalue", out.error());
        e.putArray("traceback").add(out.error());
        continue;
      }
      ObjectNode result = outs.addObject();
      result.put("output_type", "execute_result");
      result.put("execution_count", count);
      result.putObject("metadata");
      ObjectNode data = result.putObject("data");
      data.put("text/html", table(out));
      data.put("text/plain", plain(out));
      if (out.png() != null) {
        ObjectNode img = outs.addObject();
        img.put("output_type", "display_data");
        img.putObject("metadata");
        img.putObject("data").put("image/png", out.png()).put("text/plain", "<" + cell.chart().title() + ">");
      }
    }
    ObjectNode meta = root.putObject("metadata");
    meta.putObject("kernelspec").put("name", "sparksql").put("display_name", "Spark SQL").put("language", "sql");
    meta.putObject("language_info").put("name", "sql");
    meta.put("title", nb.name());
    root.put("nbformat", 4);
    root.put("nbformat_minor", 5);
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void lines(ArrayNode array, String text) {
    String[] parts = text.split("(?<=\n)");
    for (String p : parts) {
      if (!p.isEmpty()) {
        array.add(p);
      }
    }
  }

  private static String table(Output out) {
    StringBuilder h = new StringBuilder("<table><thead><tr>");
    out.columns().forEach(c -> h.append("<th>").append(ModelReport.escape(c)).append("</th>"));
    h.append("</tr></thead><tbody>");
    for (List<String> r : out.rows()) {
      h.append("<tr>");
      r.forEach(v -> h.append("<td>").append(ModelReport.escape(v)).append("</td>"));
      h.append("</tr>");
    }
    h.append("</tbody></table><p>").append(out.rows().size()).append(out.rows().size() == 1 ? " row" : " rows")
        .append(out.truncated() ? " shown (more not shown)" : "").append("</p>");
    return h.toString();
  }

  private static String plain(Output out) {
    StringBuilder sb = new StringBuilder(String.join("\t", out.columns())).append('\n');
    out.rows().forEach(r -> sb.append(String.join("\t", r)).append('\n'));
    return sb.toString();
  }

  private static String html(Notebook nb, Map<String, String> values, List<Output> outputs) {
    Parser parser = Parser.builder().extensions(List.of(TablesExtension.create())).build();
    HtmlRenderer renderer = HtmlRenderer.builder().extensions(List.of(TablesExtension.create())).escapeHtml(true)
        .sanitizeUrls(true).build();
    StringBuilder h = new StringBuilder("<!doctype html><html><head><meta charset=\"utf-8\"><title>")
        .append(ModelReport.escape(nb.name())).append("</title><style>body{font-family:sans-serif;max-width:1100px;"
            + "margin:2em auto;color:#222}table{border-collapse:collapse;font-size:13px;margin:.5em 0}"
            + "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#f3f3f3}"
            + "pre{background:#f7f7f7;padding:.5em;overflow-x:auto;font-size:12px}.err{color:#b00020;"
            + "white-space:pre-wrap}details{margin:.3em 0}.cell{border-left:3px solid #ddd;padding-left:1em;"
            + "margin:1em 0}</style></head><body>");
    h.append("<p>Parameters: ");
    values.forEach((k, v) -> h.append("<code>").append(ModelReport.escape(k)).append(" = '")
        .append(ModelReport.escape(v)).append("'</code> "));
    h.append("</p>");
    for (int i = 0; i < nb.cells().size(); i++) {
      Notebook.Cell cell = nb.cells().get(i);
      if (cell.title() != null && cell.kind() != Notebook.Kind.WIDGETS) {
        h.append("<h4>").append(ModelReport.escape(cell.title())).append("</h4>");
      }
      if (cell.kind() == Notebook.Kind.MARKDOWN) {
        h.append(renderer.render(parser.parse(cell.text())));
        continue;
      }
      if (cell.kind() == Notebook.Kind.WIDGETS) {
        continue;
      }
      Output out = i < outputs.size() ? outputs.get(i) : null;
      h.append("<div class=cell><details><summary>cell ").append(cell.number()).append(" (SQL)</summary><pre>")
          .append(ModelReport.escape(substitute(cell.text(), values))).append("</pre></details>");
      if (out == null) {
        h.append("<p>not run</p>");
      } else if (out.skipped() != null) {
        h.append("<p>").append(ModelReport.escape(out.skipped())).append("</p>");
      } else if (out.error() != null) {
        h.append("<p class=err>").append(ModelReport.escape(out.error())).append("</p>");
      } else {
        if (out.png() != null) {
          h.append("<img alt=\"").append(ModelReport.escape(cell.chart().title()))
              .append("\" src=\"data:image/png;base64,").append(out.png()).append("\">");
        }
        h.append(table(out));
        if ("empty".equals(cell.check())) {
          h.append(out.rows().isEmpty() ? "<p>check held: no rows</p>" : "<p class=err>check failed</p>");
        }
      }
      h.append("</div>");
    }
    return h.append("</body></html>").toString();
  }

  /** The lines {@code notebook run} prints. */
  public static List<String> lines(Result r) {
    return List.of(String.format(Locale.ROOT, "notebook: %d SQL cells run, %d checks held, skipped %s, parameters %s",
        r.cellsRun(), r.checksPassed(), r.skipped(), r.values()), "notebook: " + r.ipynb(), "notebook: " + r.html());
  }
}
