package io.nightscore.tools.notebook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nightscore.common.config.Settings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The notebooks as Databricks imports them (SOURCE format), and the parameters the local runner accepts. */
class NotebookTest {
  static final Path EXPORTS = Path.of("..", "notebooks-export");
  private static final Settings SETTINGS = Settings.defaults(Map.of());

  static List<Path> notebooks() throws IOException {
    try (Stream<Path> files = Files.list(EXPORTS)) {
      return files.filter(p -> p.toString().endsWith(".sql")).sorted().toList();
    }
  }

  @Test
  void everyExportedNotebookIsWhatDatabricksImports() throws IOException {
    List<Path> files = notebooks();
    assertThat(files).as("the notebooks of the issue").hasSizeGreaterThanOrEqualTo(5);
    for (Path f : files) {
      String text = Files.readString(f, StandardCharsets.UTF_8);
      String[] lines = text.split("\n", -1);
      assertEquals(Notebook.HEADER, lines[0], f + ": the export's first line");
      assertThat(text).as(f + ": Unix line endings, as Databricks exports").doesNotContain("\r");
      for (int i = 1; i < lines.length; i++) {
        if (lines[i].equals(Notebook.SEPARATOR)) {
          // Databricks writes a blank line on each side of a separator.
          assertEquals("", lines[i - 1], f + " line " + (i + 1) + ": blank line before the separator");
          assertEquals("", lines[i + 1], f + " line " + (i + 1) + ": blank line after the separator");
        }
        if (lines[i].startsWith("-- MAGIC")) {
          assertThat(lines[i]).as(f + " line " + (i + 1)).matches("-- MAGIC( .*)?");
        }
      }
      Notebook nb = Notebook.parse(f.getFileName().toString(), text);
      assertEquals(Notebook.Kind.MARKDOWN, nb.cells().get(0).kind(), f + ": opens with what it answers");
      assertEquals(Notebook.Kind.WIDGETS, nb.cells().get(1).kind(), f + ": then declares its parameters");
      assertThat(nb.params()).as(f + ": every notebook takes the database and the day").containsKeys("database",
          "run_date");
      assertThat(nb.cells().stream().filter(c -> c.kind() == Notebook.Kind.SQL).count()).as(f + ": SQL cells")
          .isGreaterThanOrEqualTo(3);
      // The defaults validate, so the notebook runs without any --param.
      assertThat(NotebookRunner.values(nb, SETTINGS, Map.of())).containsKeys("database", "run_date");
    }
  }

  static final String SMALL = String.join("\n", Notebook.HEADER,
      "-- MAGIC %md",
      "-- MAGIC # Title",
      "-- MAGIC",
      "-- MAGIC Text.",
      "",
      Notebook.SEPARATOR,
      "",
      "-- param database: identifier",
      "CREATE WIDGET TEXT database DEFAULT 'nightscore';",
      "-- param run_date: date",
      "CREATE WIDGET TEXT run_date DEFAULT '';",
      "-- param segment: categorical",
      "CREATE WIDGET TEXT segment DEFAULT 'geo_country';",
      "",
      Notebook.SEPARATOR,
      "",
      "-- DBTITLE 1,Rows per day",
      "-- chart: line x=dt y=rows,scored series=model_version",
      "SELECT dt, count(*) AS rows FROM ${database}.scores WHERE dt = '${run_date}' GROUP BY ${segment}",
      "",
      Notebook.SEPARATOR,
      "",
      "-- check: empty",
      "-- requires: scores_shadow, labels",
      "SELECT 1 WHERE false",
      "");

  @Test
  void parsesCellsParametersAndHints() {
    Notebook nb = Notebook.parse("small.sql", SMALL);
    assertEquals(List.of(Notebook.Kind.MARKDOWN, Notebook.Kind.WIDGETS, Notebook.Kind.SQL, Notebook.Kind.SQL),
        nb.cells().stream().map(Notebook.Cell::kind).toList());
    assertEquals("# Title\n\nText.\n", nb.cells().get(0).text());
    assertEquals(new Notebook.Param("segment", Notebook.ParamKind.CATEGORICAL, "geo_country"),
        nb.params().get("segment"));
    assertEquals("Rows per day", nb.cells().get(2).title());
    assertThat(nb.cells().get(2).text()).as("the title line is not SQL").startsWith("-- chart:");
    assertEquals(null, nb.cells().get(3).title());
    assertEquals(new Notebook.Chart("line", "dt", List.of("rows", "scored"), "model_version"),
        nb.cells().get(2).chart());
    assertEquals("empty", nb.cells().get(3).check());
    assertEquals(List.of("scores_shadow", "labels"), nb.cells().get(3).requires());
    assertEquals(4, nb.cells().get(3).number());
  }

  @Test
  void refusesWhatDatabricksWouldMisreadOrTheRunnerCannotSubstitute() {
    assertThatThrownBy(() -> Notebook.parse("x.sql", "SELECT 1")).hasMessageContaining("first line must be");
    assertThatThrownBy(() -> Notebook.parse("x.sql", Notebook.HEADER + "\n-- MAGIC %md\nSELECT 1\n"))
        .hasMessageContaining("cell 1: mixes '-- MAGIC' lines with SQL");
    assertThatThrownBy(() -> Notebook.parse("x.sql", Notebook.HEADER + "\n-- MAGIC %python\n-- MAGIC print(1)\n"))
        .hasMessageContaining("only markdown cells");
    assertThatThrownBy(() -> Notebook.parse("x.sql", Notebook.HEADER + "\nSELECT '${day}'\n"))
        .hasMessageContaining("${day} is not a declared parameter");
    assertThatThrownBy(() -> Notebook.parse("x.sql", Notebook.HEADER + "\nCREATE WIDGET TEXT day DEFAULT '';\n"))
        .hasMessageContaining("needs a '-- param day: KIND' line");
    assertThatThrownBy(() -> Notebook.parse("x.sql", Notebook.HEADER + "\n-- chart: pie x=a y=b\nSELECT 1\n"))
        .hasMessageContaining("chart type 'pie'");
    assertThatThrownBy(() -> Notebook.parse("x.sql", Notebook.HEADER + "\nSELECT 1\n-- COMMAND ---\nSELECT 2\n"))
        .hasMessageContaining("is not a cell separator");
    // Databricks splits cells on the exact line only: one with trailing blanks would stay inside a cell.
    assertThatThrownBy(() -> Notebook.parse("x.sql", Notebook.HEADER + "\nSELECT 1\n" + Notebook.SEPARATOR
        + " \nSELECT 2\n")).hasMessageContaining("is not a cell separator");
    assertThatThrownBy(() -> Notebook.parse("x.sql", Notebook.HEADER + "\n-- param d: column\n"
        + "CREATE WIDGET TEXT d DEFAULT '';\n")).hasMessageContaining("expected one of date, identifier, categorical");
  }

  @Test
  void parameterValuesAreValidatedBeforeTheyReachTheSql() {
    Notebook nb = Notebook.parse("small.sql", SMALL);
    Map<String, String> values = NotebookRunner.values(nb, SETTINGS, Map.of("run_date", "2026-11-09"));
    assertEquals(Map.of("database", SETTINGS.database(), "run_date", "2026-11-09", "segment", "geo_country"), values);
    assertThat(NotebookRunner.substitute(nb.cells().get(2).text(), values))
        .contains("FROM " + SETTINGS.database() + ".scores WHERE dt = '2026-11-09' GROUP BY geo_country");

    assertThatThrownBy(() -> NotebookRunner.values(nb, SETTINGS, Map.of("run_date", "2026-11-09' OR '1'='1")))
        .hasMessageContaining("parameter run_date of small.sql must be a real date");
    assertThatThrownBy(() -> NotebookRunner.values(nb, SETTINGS, Map.of("segment", "country; DROP TABLE x")))
        .hasMessageContaining("must be a categorical feature of the schema");
    assertThatThrownBy(() -> NotebookRunner.values(nb, SETTINGS, Map.of("segment", "bid_price")))
        .as("a numeric feature is no segment").hasMessageContaining("must be a categorical feature of the schema");
    assertThatThrownBy(() -> NotebookRunner.values(nb, SETTINGS, Map.of("segment", "event_id")))
        .hasMessageContaining("must be a categorical feature of the schema");
    assertThatThrownBy(() -> NotebookRunner.values(nb, SETTINGS, Map.of("database", "a.b")))
        .hasMessageContaining("must be an identifier");
    assertThatThrownBy(() -> NotebookRunner.values(nb, SETTINGS, Map.of("day", "x")))
        .hasMessageContaining("has no parameter 'day'");
  }
}
