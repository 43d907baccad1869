package io.nightscore.tools.notebook;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Databricks SQL notebook in SOURCE export format, as Databricks reads it: the header line, cells separated by
 * {@link #SEPARATOR} lines, markdown cells as {@code -- MAGIC %md} lines. On top of that format, which Databricks
 * ignores as comments: a cell of {@code CREATE WIDGET TEXT} statements declares the parameters, each preceded by
 * {@code -- param NAME: KIND}; a SQL cell may carry {@code -- chart: ...}, {@code -- check: empty} and
 * {@code -- requires: TABLE[, TABLE]} hints.
 */
public record Notebook(String name, List<Cell> cells, Map<String, Param> params) {
  public static final String HEADER = "-- Databricks notebook source";
  public static final String SEPARATOR = "-- COMMAND ----------";
  private static final String MAGIC = "-- MAGIC";
  private static final Pattern WIDGET = Pattern.compile(
      "(?i)CREATE\\s+WIDGET\\s+TEXT\\s+([A-Za-z_][A-Za-z0-9_]*)\\s+DEFAULT\\s+'([^'\\\\]*)'\\s*;?\\s*");
  private static final Pattern PARAM = Pattern.compile("--\\s*param\\s+([A-Za-z_][A-Za-z0-9_]*)\\s*:\\s*(\\w+)\\s*");
  private static final Pattern REFERENCE = Pattern.compile("\\$\\{([^}]*)}");
  private static final Pattern CHART = Pattern.compile("--\\s*chart:\\s*(.*)");
  private static final Pattern CHECK = Pattern.compile("--\\s*check:\\s*(.*)");
  private static final Pattern REQUIRES = Pattern.compile("--\\s*requires:\\s*(.*)");
  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  /** A cell's title as Databricks exports it: the cell's first line. */
  private static final Pattern TITLE = Pattern.compile("-- DBTITLE \\d+,(.*)");

  public enum Kind { MARKDOWN, WIDGETS, SQL }

  /** How the local runner validates a parameter's value before it reaches the SQL text. */
  public enum ParamKind {
    /** yyyy-MM-dd, or empty (the notebooks read it as the latest scored day). */
    DATE,
    /** A database or table name. */
    IDENTIFIER,
    /** A categorical feature of the events schema ({@code nightscore.schema.categorical}). */
    CATEGORICAL,
    /** A numeric feature of the events schema ({@code nightscore.schema.numeric}). */
    NUMERIC,
    /** A whole number. */
    INTEGER
  }

  /** A declared parameter with its Databricks widget default. */
  public record Param(String name, ParamKind kind, String defaultValue) {}

  /**
   * A chart hint: {@code line|bar|histogram x=COL y=COL[,COL] [series=COL]}; a histogram is a bar chart of bins the
   * query already counted.
   */
  public record Chart(String type, String x, List<String> y, String series) {
    public String title() {
      return String.join(", ", y) + " by " + x + (series == null ? "" : " and " + series);
    }
  }

  /**
   * One cell, numbered from 1 as Databricks shows them; {@code text} is the markdown without its MAGIC prefixes,
   * or the SQL as written (without its title line); {@code title}: the cell's Databricks title ({@code -- DBTITLE}),
   * or null; {@code requires}: the tables without which the cell is skipped (tables a young warehouse may not have
   * yet, e.g. {@code scores_shadow}).
   */
  public record Cell(int number, Kind kind, String title, String text, Chart chart, String check,
      List<String> requires) {}

  /** Parses {@code source}, the file's text; {@code name} names the notebook in errors. */
  public static Notebook parse(String name, String source) {
    String text = source.replace("\r\n", "\n");
    if (!text.startsWith(HEADER + "\n") && !text.equals(HEADER)) {
      throw new IllegalArgumentException(name + " is not a Databricks notebook export: its first line must be '"
          + HEADER + "'");
    }
    List<List<String>> raw = new ArrayList<>();
    List<String> current = new ArrayList<>();
    for (String line : text.substring(HEADER.length()).split("\n", -1)) {
      if (line.equals(SEPARATOR)) {
        raw.add(current);
        current = new ArrayList<>();
      } else if (line.strip().startsWith("-- COMMAND")) {
        throw new IllegalArgumentException(name + ": '" + line + "' is not a cell separator (it must be exactly '"
            + SEPARATOR + "')");
      } else {
        current.add(line);
      }
    }
    raw.add(current);

    List<Cell> cells = new ArrayList<>();
    Map<String, Param> params = new LinkedHashMap<>();
    for (List<String> lines : raw) {
      List<String> body = trim(lines);
      if (body.isEmpty()) {
        continue;
      }
      cells.add(cell(name, cells.size() + 1, body, params));
    }
    for (Cell c : cells) {
      if (c.kind() == Kind.SQL) {
        Matcher m = REFERENCE.matcher(c.text());
        while (m.find()) {
          if (!params.containsKey(m.group(1))) {
            throw new IllegalArgumentException(name + ", cell " + c.number() + ": ${" + m.group(1) + "} is not a "
                + "declared parameter (declared: " + params.keySet() + ")");
          }
        }
      }
    }
    return new Notebook(name, List.copyOf(cells), params);
  }

  private static Cell cell(String name, int number, List<String> lines, Map<String, Param> params) {
    String where = name + ", cell " + number;
    Matcher titled = TITLE.matcher(lines.get(0));
    String title = titled.matches() ? titled.group(1).strip() : null;
    List<String> body = titled.matches() ? trim(lines.subList(1, lines.size())) : lines;
    if (body.isEmpty()) {
      throw new IllegalArgumentException(where + ": a cell with a title and nothing else");
    }
    long magic = body.stream().filter(l -> l.startsWith(MAGIC)).count();
    if (magic > 0) {
      if (magic != body.size()) {
        throw new IllegalArgumentException(where + ": mixes '-- MAGIC' lines with SQL lines");
      }
      if (!body.get(0).strip().equals(MAGIC + " %md")) {
        throw new IllegalArgumentException(where + ": only markdown cells ('" + MAGIC + " %md') are supported, got '"
            + body.get(0) + "'");
      }
      StringBuilder md = new StringBuilder();
      for (String line : body.subList(1, body.size())) {
        md.append(line.length() > MAGIC.length() + 1 ? line.substring(MAGIC.length() + 1) : "").append('\n');
      }
      return new Cell(number, Kind.MARKDOWN, title, md.toString(), null, null, List.of());
    }
    String sql = String.join("\n", body);
    if (body.stream().anyMatch(l -> WIDGET.matcher(l.strip()).matches())) {
      ParamKind pending = null;
      String pendingName = null;
      for (String line : body) {
        String l = line.strip();
        Matcher p = PARAM.matcher(l);
        Matcher w = WIDGET.matcher(l);
        if (p.matches()) {
          pendingName = p.group(1);
          try {
            pending = ParamKind.valueOf(p.group(2).toUpperCase(Locale.ROOT));
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": parameter " + pendingName + " has kind '" + p.group(2)
                + "', expected one of date, identifier, categorical, numeric, integer");
          }
        } else if (w.matches()) {
          if (pending == null || !pendingName.equals(w.group(1))) {
            throw new IllegalArgumentException(where + ": widget " + w.group(1) + " needs a '-- param " + w.group(1)
                + ": KIND' line just before it");
          }
          params.put(w.group(1), new Param(w.group(1), pending, w.group(2)));
          pending = null;
          pendingName = null;
        } else if (!l.isEmpty() && !l.startsWith("--")) {
          throw new IllegalArgumentException(where + ": a widget cell holds only '-- param' comments and "
              + "CREATE WIDGET TEXT name DEFAULT '...' statements, got '" + l + "'");
        }
      }
      return new Cell(number, Kind.WIDGETS, title, sql, null, null, List.of());
    }
    Chart chart = null;
    String check = null;
    List<String> requires = new ArrayList<>();
    for (String line : body) {
      Matcher c = CHART.matcher(line.strip());
      Matcher k = CHECK.matcher(line.strip());
      Matcher r = REQUIRES.matcher(line.strip());
      if (r.matches()) {
        for (String t : r.group(1).split("\\s*,\\s*")) {
          if (!NAME.matcher(t.strip()).matches()) {
            throw new IllegalArgumentException(where + ": requires names tables, got '" + t + "'");
          }
          requires.add(t.strip());
        }
      } else if (c.matches()) {
        chart = chart(where, c.group(1));
      } else if (k.matches()) {
        check = k.group(1).strip();
        if (!check.equals("empty")) {
          throw new IllegalArgumentException(where + ": unknown check '" + check + "' (supported: empty)");
        }
      }
    }
    return new Cell(number, Kind.SQL, title, sql, chart, check, List.copyOf(requires));
  }

  private static Chart chart(String where, String spec) {
    String[] parts = spec.strip().split("\\s+");
    String type = parts[0];
    if (!List.of("line", "bar", "histogram").contains(type)) {
      throw new IllegalArgumentException(where + ": chart type '" + type + "' is not line, bar or histogram");
    }
    Map<String, String> kv = new LinkedHashMap<>();
    for (int i = 1; i < parts.length; i++) {
      int eq = parts[i].indexOf('=');
      if (eq < 1) {
        throw new IllegalArgumentException(where + ": chart option '" + parts[i] + "' is not key=value");
      }
      kv.put(parts[i].substring(0, eq), parts[i].substring(eq + 1));
    }
    if (!kv.containsKey("x") || !kv.containsKey("y")) {
      throw new IllegalArgumentException(where + ": a chart needs x=COLUMN and y=COLUMN[,COLUMN]");
    }
    kv.keySet().stream().filter(k -> !List.of("x", "y", "series").contains(k)).findFirst().ifPresent(k -> {
      throw new IllegalArgumentException(where + ": unknown chart option '" + k + "' (x, y, series)");
    });
    return new Chart(type, kv.get("x"), List.of(kv.get("y").split(",")), kv.get("series"));
  }

  private static List<String> trim(List<String> lines) {
    int from = 0;
    int to = lines.size();
    while (from < to && lines.get(from).isBlank()) {
      from++;
    }
    while (to > from && lines.get(to - 1).isBlank()) {
      to--;
    }
    return lines.subList(from, to);
  }
}
