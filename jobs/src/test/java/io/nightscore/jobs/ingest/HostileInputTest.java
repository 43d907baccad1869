package io.nightscore.jobs.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.nightscore.common.config.Settings;
import io.nightscore.common.sql.JobFailedException;
import io.nightscore.common.table.Table;
import io.nightscore.common.table.Warehouse;
import io.nightscore.testing.SparkTestBase;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * Raw files as a broken upstream writes them. Every record lands in events or quarantine exactly once, or the
 * day is refused with a clear error and nothing written.
 */
class HostileInputTest extends SparkTestBase {
  static final LocalDate DAY = LocalDate.of(2026, 11, 1);
  static final String HEADER = "id,ts,y,x1,site";

  static Settings settings(String name, String... more) {
    Map<String, String> conf = new HashMap<>(Map.of(
        "nightscore.warehouse", scratch.resolve("wh-" + name).toString(),
        "nightscore.schema.id", "id", "nightscore.schema.time", "ts", "nightscore.schema.label", "y",
        "nightscore.schema.numeric", "[x1]", "nightscore.schema.categorical", "[site]",
        "nightscore.ingest.max-quarantine-share", "0.9", "nightscore.ingest.max-value-length", "40"));
    for (int i = 0; i < more.length; i += 2) {
      conf.put(more[i], more[i + 1]);
    }
    return Settings.defaults(conf);
  }

  /** A day folder holding {@code files}, each given as its bytes. */
  static Path day(String name, byte[]... files) throws Exception {
    Path dir = Files.createDirectories(scratch.resolve(name));
    for (int i = 0; i < files.length; i++) {
      Files.write(dir.resolve("part-" + i + ".csv"), files[i]);
    }
    return dir;
  }

  static byte[] bytes(Object... parts) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Object p : parts) {
      out.write(p instanceof byte[] b ? b : String.valueOf(p).getBytes(StandardCharsets.UTF_8));
    }
    return out.toByteArray();
  }

  static IngestJob.Result ingest(Settings s, Path input, IngestJob.Format format) {
    return IngestJob.run(spark, s, new IngestJob.Options(DAY, input.toString(), format));
  }

  static Map<String, Row> events(Settings s) {
    Map<String, Row> out = new HashMap<>();
    new Warehouse(spark, s).read(Table.EVENTS).collectAsList().forEach(r -> out.put(r.getAs("id"), r));
    return out;
  }

  static Map<String, String> quarantinedReasons(Settings s) {
    Map<String, String> out = new HashMap<>();
    for (Row r : new Warehouse(spark, s).read(Table.QUARANTINE).selectExpr("get_json_object(raw, '$.id')", "reason")
        .collectAsList()) {
      out.merge(String.valueOf(r.getString(0)), r.getString(1), (a, b) -> a + "+" + b);
    }
    return out;
  }

  @Test
  void aDayOfBrokenCsvFilesLandsRecordByRecord() throws Exception {
    Settings s = settings("csv");
    byte[] notUtf8 = {(byte) 0xC3, (byte) 0x28};
    // File 0: CRLF and LF line ends mixed, a quoted field holding a line break, a delimiter and doubled quotes,
    // invalid UTF-8 in a categorical, an over-long categorical, a value past a float.
    // File 1: the same event "a" again (another file of the day), and a line with one field too many.
    Path input = day("csv", bytes(HEADER, "\n",
        "a,2026-11-01 01:00:00,0,1.5,plain\r\n",
        "h,2026-11-01 00:30:00,0,1.5,crlf\r\n",
        "b,2026-11-01 02:00:00,1,2,\"two\nlines, \"\"quoted\"\"\"\n",
        "c,2026-11-01 03:00:00,0,3,caf", notUtf8, "\r\n",
        "d,2026-11-01 04:00:00,0,4,", "x".repeat(41), "\n",
        "e,2026-11-01 05:00:00,0,1e39,s\n",
        "f,2026-11-01 06:00:00,0,6,last line without an end"),
        bytes(HEADER, "\n", "a,2026-11-01 01:00:00,0,1.5,plain\n", "g,2026-11-01 07:00:00,0,7,s,extra\n"));

    IngestJob.Result r = ingest(s, input, IngestJob.Format.CSV);

    assertEquals(9, r.rowsIn(), "nine records in ten lines");
    assertEquals(r.rowsIn(), r.rowsWritten() + r.rowsQuarantined(), "every record once");
    Map<String, Row> events = events(s);
    assertThat(events.keySet()).containsExactlyInAnyOrder("a", "b", "f", "h");
    assertEquals("two\nlines, \"quoted\"", events.get("b").getAs("site"), "a valid CSV field arrives intact");
    assertEquals("crlf", events.get("h").getAs("site"), "no carriage return left at a CRLF line end");
    assertEquals("last line without an end", events.get("f").getAs("site"));
    assertEquals(Map.of("c", "INVALID_ENCODING", "d", "VALUE_TOO_LONG", "e", "OUT_OF_RANGE", "a", "DUPLICATE_ID",
        "g", "MALFORMED_ROW"), quarantinedReasons(s));
  }

  @Test
  void aByteOrderMarkAndCrlfLineEndsAreNotPartOfAnyValue() throws Exception {
    Settings s = settings("bom");
    byte[] bom = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
    Path input = day("bom", bytes(bom, HEADER, "\r\n", "a,2026-11-01 01:00:00,0,1.5,plain\r\n",
        "b,2026-11-01 02:00:00,1,2,\"quoted\"\r\n"));
    IngestJob.Result r = ingest(s, input, IngestJob.Format.CSV);
    assertEquals(2, r.rowsWritten(), r.reasons().toString());
    assertEquals("plain", events(s).get("a").getAs("site"));
    assertEquals("quoted", events(s).get("b").getAs("site"));
  }

  @Test
  void quotesEscapedTheWaySparksCsvWriterDoesReadWithABackslashEscape() throws Exception {
    Settings s = settings("backslash", "nightscore.ingest.csv-escape", "\\");
    Path input = day("backslash", bytes(HEADER, "\n", "a,2026-11-01 01:00:00,0,1.5,\"say \\\"hi\\\", ok\"\n"));
    assertEquals(1, ingest(s, input, IngestJob.Format.CSV).rowsWritten());
    assertEquals("say \"hi\", ok", events(s).get("a").getAs("site"));
  }

  @Test
  void aQuoteNeverClosedRefusesTheDayInsteadOfSwallowingTheFile() throws Exception {
    Settings s = settings("unclosed");
    StringBuilder rest = new StringBuilder();
    for (int i = 0; i < 100; i++) {
      rest.append("r").append(i).append(",2026-11-01 01:00:00,0,1.5,a value of some forty characters\n");
    }
    Path input = day("unclosed", bytes(HEADER, "\n", "a,2026-11-01 01:00:00,0,1.5,\"opened\n", rest));
    assertThatThrownBy(() -> ingest(s, input, IngestJob.Format.CSV)).isInstanceOf(JobFailedException.class)
        .hasMessageContaining("runs past 4000 characters").hasMessageContaining("a quote opened and never closed")
        .hasMessageContaining("nothing was written");
    assertFalse(new Warehouse(spark, s).exists(Table.EVENTS));
    assertFalse(new Warehouse(spark, s).exists(Table.QUARANTINE));
  }

  @Test
  void aMissingOrWrongHeaderIsRefusedAndNothingWritten() throws Exception {
    Settings s = settings("header");
    Path noHeader = day("no-header", bytes("a,2026-11-01 01:00:00,0,1,s\nb,2026-11-01 02:00:00,0,2,s\n"));
    Path renamed = day("renamed", bytes("id,ts,y,x_1,site\na,2026-11-01 01:00:00,0,1,s\n"));
    for (Path input : List.of(noHeader, renamed)) {
      assertThatThrownBy(() -> ingest(s, input, IngestJob.Format.CSV)).as(input.getFileName().toString())
          .isInstanceOf(JobFailedException.class).hasMessageContaining("lacks the column(s)")
          .hasMessageContaining("nothing was written");
    }
    assertFalse(new Warehouse(spark, s).exists(Table.QUARANTINE));
    assertFalse(new Warehouse(spark, s).exists(Table.EVENTS));
  }

  @Test
  void malformedJsonLinesAreQuarantinedAsMalformed() throws Exception {
    Settings s = settings("json");
    Path dir = Files.createDirectories(scratch.resolve("json"));
    Files.writeString(dir.resolve("part-0.json"), """
        {"id": "a", "ts": "2026-11-01 01:00:00", "y": 0, "x1": 1.5, "site": "s"}
        {"id": "b", "ts": "2026-11-01 02:00:00", "y": 1, "x1": 2,
        not json at all
        {"id": "c", "ts": "2026-11-01 03:00:00", "y": 0, "x1": 3, "site": "s"}
        """);
    IngestJob.Result r = ingest(s, dir, IngestJob.Format.JSON);
    assertEquals(4, r.rowsIn());
    assertEquals(Map.of("MALFORMED_ROW", 2L), r.reasons());
    assertThat(events(s).keySet()).containsExactlyInAnyOrder("a", "c");
  }
}
