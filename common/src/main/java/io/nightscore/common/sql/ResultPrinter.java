package io.nightscore.common.sql;

import com.univocity.parsers.csv.CsvWriter;
import com.univocity.parsers.csv.CsvWriterSettings;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Prints query results: a bounded table for people, and CSV or JSON lines for machines, streamed a partition at a
 * time so an export holds every row without the whole result on the driver.
 */
public final class ResultPrinter {
  private static final int MAX_CELL = 60;

  private ResultPrinter() {}

  /** An aligned text table of already bounded rows, then the row count. */
  public static void table(String[] columns, List<Row> rows, PrintStream out) {
    int[] width = new int[columns.length];
    List<String[]> cells = new ArrayList<>();
    for (int i = 0; i < columns.length; i++) {
      width[i] = columns[i].length();
    }
    for (Row r : rows) {
      String[] line = new String[columns.length];
      for (int i = 0; i < columns.length; i++) {
        line[i] = cell(r.get(i));
        width[i] = Math.min(Math.max(width[i], line[i].length()), MAX_CELL);
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

  /**
   * RFC 4180 CSV with a header line: every row of {@code df} (at most {@code cap} when it is positive), read a
   * partition at a time. Nulls are empty fields; arrays and maps are written as their text.
   */
  public static long csv(Dataset<Row> df, long cap, PrintStream out) {
    CsvWriterSettings settings = new CsvWriterSettings();
    settings.getFormat().setLineSeparator("\n");
    settings.setHeaders(df.columns());
    Writer writer = new OutputStreamWriter(out, StandardCharsets.UTF_8);
    CsvWriter csv = new CsvWriter(writer, settings);
    csv.writeHeaders();
    long n = 0;
    for (Iterator<Row> rows = df.toLocalIterator(); rows.hasNext() && (cap <= 0 || n < cap); n++) {
      Row r = rows.next();
      Object[] values = new Object[r.length()];
      for (int i = 0; i < values.length; i++) {
        Object v = r.get(i);
        values[i] = v == null ? null : v instanceof scala.collection.Seq<?> || v instanceof scala.collection.Map<?, ?>
            ? cell(v) : String.valueOf(v);
      }
      csv.writeRow(values);
    }
    csv.flush();
    return n;
  }

  /** One JSON object per line (Spark's own encoding of each row), streamed like {@link #csv}. */
  public static long json(Dataset<Row> df, long cap, PrintStream out) {
    long n = 0;
    for (Iterator<String> rows = df.toJSON().toLocalIterator(); rows.hasNext() && (cap <= 0 || n < cap); n++) {
      out.println(rows.next());
    }
    out.flush();
    return n;
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

  private static String line(String[] values, int[] width) {
    StringBuilder b = new StringBuilder("|");
    for (int i = 0; i < values.length; i++) {
      String v = values[i].length() > width[i] ? values[i].substring(0, width[i] - 3) + "..." : values[i];
      b.append(' ').append(v).append(" ".repeat(width[i] - v.length())).append(" |");
    }
    return b.toString();
  }
}
