package io.nightscore.jobs.sql;

import static org.assertj.core.api.Assertions.assertThat;

import io.nightscore.testing.SparkTestBase;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What {@code sql} prints: the table view is capped, the machine formats stream every row unless capped. */
class SqlOutputTest extends SparkTestBase {
  private static final String ROWS = "SELECT id, CASE WHEN id = 7 THEN 'a,b \"q\"\nnext' END AS txt FROM range(2500)";

  private static String[] run(SqlJob.Format format, int maxRows) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    SqlJob.run(spark, new SqlJob.Options(ROWS, format, maxRows), new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new String[] {out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
  }

  @Test
  void csvStreamsEveryRowAndQuotesWhatNeedsIt() throws Exception {
    String[] printed = run(SqlJob.Format.CSV, 0);
    assertThat(printed[1]).doesNotContain("showing the first");
    com.univocity.parsers.csv.CsvParserSettings settings = new com.univocity.parsers.csv.CsvParserSettings();
    settings.setHeaderExtractionEnabled(true);
    List<String[]> rows = new com.univocity.parsers.csv.CsvParser(settings).parseAll(new StringReader(printed[0]));
    assertThat(rows).as("every row of the result, past the table's 1,000").hasSize(2500);
    assertThat(rows.get(7)).as("a value with a comma, quotes and a newline arrives intact")
        .containsExactly("7", "a,b \"q\"\nnext");
    assertThat(rows.get(8)[1]).as("null is an empty field").isNull();
  }

  @Test
  void jsonStreamsEveryRow() {
    String[] lines = run(SqlJob.Format.JSON, 0)[0].split("\n");
    assertThat(lines).hasSize(2500);
    assertThat(lines[2499]).isEqualTo("{\"id\":2499}");
  }

  @Test
  void machineFormatsHonourAnExplicitCap() {
    assertThat(run(SqlJob.Format.CSV, 5)[0].split("\n")).as("header and 5 rows").hasSize(6);
    assertThat(run(SqlJob.Format.JSON, 5)[0].split("\n")).hasSize(5);
  }

  @Test
  void tableStopsAtItsDefaultCapAndSaysSo() {
    String[] printed = run(SqlJob.Format.TABLE, 0);
    assertThat(printed[0]).endsWith("1000 rows\n");
    assertThat(printed[1]).contains("showing the first 1000 rows");
  }
}
