package io.nightscore.jobs.sql;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** Runs SQL statements against the catalog and prints their results as a table, CSV or JSON lines. */
public final class SqlJob {

  public enum Format { TABLE, CSV, JSON }

  public record Options(String sql, Format format, int maxRows) {}

  /** Statements run and rows printed. */
  public record Result(int statements, long rowsPrinted, boolean truncated) {}

  private SqlJob() {}

  public static Result run(SparkSession spark, Options options, PrintStream out, PrintStream err) {
    List<String> statements = split(options.sql());
    if (statements.isEmpty()) {
      throw new IllegalArgumentException("no SQL statement given");
    }
    long printed = 0;
    boolean truncated = false;
    for (String statement : statements) {
      spark.sparkContext().setJobDescription("sql: " + abbreviate(statement));
      long t0 = System.nanoTime();
      Dataset<Row> df = spark.sql(statement);
      if (df.columns().length == 0) {
        continue;
      }
      // Bounded: never more than maxRows + 1 rows reach the driver.
      List<Row> rows = df.limit(options.maxRows() + 1).collectAsList();
      if (rows.size() > options.maxRows()) {
        rows = rows.subList(0, options.maxRows());
        truncated = true;
        err.println("(showing the first " + options.maxRows() + " rows; raise --max-rows to see more)");
      }
      switch (options.format()) {
        case TABLE -> printTable(df.columns(), rows, out);
        case CSV -> printCsv(df.columns(), rows, out);
        case JSON -> {
          Dataset<Row> limited = spark.createDataFrame(rows, df.schema());
          limited.toJSON().collectAsList().forEach(out::println);
        }
      }
      printed += rows.size();
      err.printf(Locale.ROOT, "(%.1f s)%n", (System.nanoTime() - t0) / 1e9);
    }
    out.flush();
    return new Result(statements.size(), printed, truncated);
  }

  /** Splits a script on semicolons outside quotes and comments; drops empty statements. */
  public static List<String> split(String script) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    char quote = 0;
    for (int i = 0; i < script.length(); i++) {
      char c = script.charAt(i);
      if (quote != 0) {
        cur.append(c);
        if (c == '\\' && i + 1 < script.length()) {
          cur.append(script.charAt(++i));
        } else if (c == quote) {
          quote = 0;
        }
      } else if (c == '\'' || c == '"' || c == '`') {
        quote = c;
        cur.append(c);
      } else if (c == '-' && i + 1 < script.length() && script.charAt(i + 1) == '-') {
        while (i < script.length() && script.charAt(i) != '\n') {
          i++;
        }
        cur.append('\n');
      } else if (c == ';') {
        add(out, cur);
      } else {
        cur.append(c);
      }
    }
    add(out, cur);
    return out;
  }

  private static void add(List<String> out, StringBuilder cur) {
    String s = cur.toString().trim();
    if (!s.isEmpty()) {
      out.add(s);
    }
    cur.setLength(0);
  }

  private static String abbreviate(String s) {
    String one = s.replaceAll("\\s+", " ");
    return one.length() > 80 ? one.substring(0, 77) + "..." : one;
  }

  static String cell(Object v) {
    if (v == null) {
      return "NULL";
    }
    if (v instanceof Double d) {
      return d.isNaN() || d.isInfinite() ? d.toString() : String.format(Locale.ROOT, "%.6g", d);
    }
    if (v instanceof Float f) {
      return String.format(Locale.ROOT, "%.6g", f);
    }
    if (v instanceof scala.collection.Seq<?> seq) {
      return scala.collection.JavaConverters.seqAsJavaList(seq).toString();
    }
    if (v instanceof scala.collection.Map<?, ?> map) {
      return scala.collection.JavaConverters.mapAsJavaMap(map).toString();
    }
    return String.valueOf(v);
  }

  public static void printTable(String[] columns, List<Row> rows, PrintStream out) {
    int[] width = new int[columns.length];
    List<String[]> cells = new ArrayList<>();
    for (int i = 0; i < columns.length; i++) {
      width[i] = columns[i].length();
    }
    for (Row r : rows) {
      String[] line = new String[columns.length];
      for (int i = 0; i < columns.length; i++) {
        line[i] = cell(r.get(i));
        width[i] = Math.min(Math.max(width[i], line[i].length()), 60);
      }
      cells.add(line);
    }
    StringBuilder sep = new StringBuilder("+");
    for (int w : width) {
      sep.append("-".repeat(w + 2)).append('+');
    }
    out.println(sep);
    out.println(line(columns, width));
    out.println(sep);
    for (String[] line : cells) {
      out.println(line(line, width));
    }
    out.println(sep);
    out.println(rows.size() + (rows.size() == 1 ? " row" : " rows"));
  }

  private static String line(String[] values, int[] width) {
    StringBuilder b = new StringBuilder("|");
    for (int i = 0; i < values.length; i++) {
      String v = values[i].length() > width[i] ? values[i].substring(0, width[i] - 3) + "..." : values[i];
      b.append(' ').append(v).append(" ".repeat(width[i] - v.length())).append(" |");
    }
    return b.toString();
  }

  static void printCsv(String[] columns, List<Row> rows, PrintStream out) {
    out.println(csvLine(List.of(columns)));
    for (Row r : rows) {
      List<String> values = new ArrayList<>();
      for (int i = 0; i < columns.length; i++) {
        values.add(r.isNullAt(i) ? "" : String.valueOf(r.get(i) instanceof scala.collection.Seq<?>
            || r.get(i) instanceof scala.collection.Map<?, ?> ? cell(r.get(i)) : r.get(i)));
      }
      out.println(csvLine(values));
    }
  }

  private static String csvLine(List<String> values) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < values.size(); i++) {
      String v = values.get(i);
      if (i > 0) {
        b.append(',');
      }
      if (v.contains(",") || v.contains("\"") || v.contains("\n") || v.contains("\r")) {
        b.append('"').append(v.replace("\"", "\"\"")).append('"');
      } else {
        b.append(v);
      }
    }
    return b.toString();
  }
}
