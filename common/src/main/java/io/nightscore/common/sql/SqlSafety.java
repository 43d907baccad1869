package io.nightscore.common.sql;

import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;
import java.util.regex.Pattern;

/** Validation for every value that reaches a SQL string: dates, identifiers and paths. */
public final class SqlSafety {
  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");
  private static final DateTimeFormatter ISO_DATE =
      DateTimeFormatter.ofPattern("uuuu-MM-dd").withResolverStyle(ResolverStyle.STRICT);

  private SqlSafety() {}

  /** Parses a yyyy-MM-dd date strictly (no 2026-02-30, no trailing text). */
  public static LocalDate parseDate(String value, String what) {
    if (value == null) {
      throw new IllegalArgumentException(what + " is required and must be yyyy-MM-dd");
    }
    try {
      return LocalDate.parse(value, ISO_DATE);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(what + " must be a real date in the form yyyy-MM-dd, got '" + value + "'");
    }
  }

  /** A date as a SQL literal; the date is a parsed {@link LocalDate}, so the text is always yyyy-MM-dd. */
  public static String dateLiteral(LocalDate date) {
    return "DATE'" + date.format(ISO_DATE) + "'";
  }

  /** A column, table or database name: letters, digits and underscores, not starting with a digit. */
  public static String checkIdentifier(String name, String what) {
    if (name == null || !IDENTIFIER.matcher(name).matches()) {
      throw new IllegalArgumentException(what + " must be an identifier ([A-Za-z_][A-Za-z0-9_]*), got '" + name + "'");
    }
    return name;
  }

  /** A filesystem or object-store path that can sit inside a quoted SQL string literal. */
  public static String checkPath(String path, String what) {
    if (path == null || path.isBlank()) {
      throw new IllegalArgumentException(what + " must be a non-empty path");
    }
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c == '\'' || c == '"' || c == '\\' || c == '`' || c == ';' || Character.isISOControl(c)) {
        throw new IllegalArgumentException(what + " must not contain quotes, backslashes, backticks, ';' or "
            + "control characters, got '" + path + "'");
      }
    }
    return path;
  }

  /** A path as a quoted SQL string literal, after {@link #checkPath}. */
  public static String pathLiteral(String path) {
    return "'" + checkPath(path, "path") + "'";
  }
}
