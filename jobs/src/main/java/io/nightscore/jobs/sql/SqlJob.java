package io.nightscore.jobs.sql;

import io.nightscore.common.sql.ResultPrinter;
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

  /**
   * {@code maxRows}: the most rows printed per statement; 0 means the format's default (1,000 for the table,
   * every row for CSV and JSON, which stream).
   */
  public record Options(String sql, Format format, int maxRows) {}

  /** The table view's cap when none is given. */
  public static final int TABLE_ROWS = 1000;

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
      long n;
      if (options.format() == Format.TABLE) {
        int cap = options.maxRows() > 0 ? options.maxRows() : TABLE_ROWS;
        // Bounded: never more than cap + 1 rows reach the driver.
        List<Row> rows = df.limit(cap + 1).collectAsList();
        if (rows.size() > cap) {
          rows = rows.subList(0, cap);
          truncated = true;
          err.println("(showing the first " + cap + " rows; raise --max-rows to see more)");
        }
        ResultPrinter.table(df.columns(), rows, out);
        n = rows.size();
      } else {
        n = options.format() == Format.CSV ? ResultPrinter.csv(df, options.maxRows(), out)
            : ResultPrinter.json(df, options.maxRows(), out);
        truncated |= options.maxRows() > 0 && n == options.maxRows();
      }
      printed += n;
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
}
