package io.nightscore.jobs.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.nightscore.common.config.EventSchema;
import io.nightscore.testing.SparkTestBase;
import java.sql.Timestamp;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

class IngestRulesTest extends SparkTestBase {

  static final LocalDate DAY = LocalDate.of(2026, 11, 1);
  static final EventSchema SCHEMA = new EventSchema("id", "ts", "y", List.of("x1", "x2"), List.of("site"));
  static final int MAX_LENGTH = 30;
  static final StructType RAW = new StructType()
      .add("id", DataTypes.StringType).add("ts", DataTypes.StringType).add("y", DataTypes.StringType)
      .add("x1", DataTypes.StringType).add("x2", DataTypes.StringType).add("site", DataTypes.StringType);

  static Row raw(String id, String ts, String y, String x1, String x2, String site) {
    return RowFactory.create(id, ts, y, x1, x2, site);
  }

  /** One row per rule, plus valid rows: the expected reason is encoded in the id. */
  static Dataset<Row> day() {
    List<Row> rows = new ArrayList<>();
    rows.add(raw("ok1", "2026-11-01 10:00:00", "1", "3", "0.5", "s1"));
    rows.add(raw("ok2", " 2026-11-01 23:59:59 ", "0", "", null, null));
    rows.add(raw("ok3", "2026-11-01 00:00:00", "1.0", "-2e3", "7", "  "));
    rows.add(raw(null, "2026-11-01 10:00:00", "1", "1", "1", "s"));
    rows.add(raw("   ", "2026-11-01 10:00:00", "1", "1", "1", "s"));
    rows.add(raw("MISSING_TIME", "", "1", "1", "1", "s"));
    rows.add(raw("BAD_TIME", "2026-13-45 99:00", "1", "1", "1", "s"));
    rows.add(raw("MISSING_LABEL", "2026-11-01 10:00:00", null, "1", "1", "s"));
    rows.add(raw("BAD_LABEL", "2026-11-01 10:00:00", "2", "1", "1", "s"));
    rows.add(raw("BAD_LABEL_TEXT", "2026-11-01 10:00:00", "yes", "1", "1", "s"));
    rows.add(raw("NON_NUMERIC", "2026-11-01 10:00:00", "0", "1", "n/a", "s"));
    rows.add(raw("NON_FINITE", "2026-11-01 10:00:00", "0", "Infinity", "1", "s"));
    rows.add(raw("NON_FINITE_NAN", "2026-11-01 10:00:00", "0", "1", "NaN", "s"));
    rows.add(raw("WRONG_DATE", "2026-10-31 23:59:59", "0", "1", "1", "s"));
    rows.add(raw("INVALID_ENCODING", "2026-11-01 10:00:00", "0", "1", "1", "caf\uFFFD"));
    rows.add(raw("VALUE_TOO_LONG", "2026-11-01 10:00:00", "0", "1", "1", "s".repeat(MAX_LENGTH + 1)));
    rows.add(raw("LONGEST_OK", "2026-11-01 10:00:00", "0", "1", "1", "s".repeat(MAX_LENGTH)));
    rows.add(raw("OUT_OF_RANGE", "2026-11-01 10:00:00", "0", "-3.5e38", "1", "s"));
    rows.add(raw("FLOAT_MAX_OK", "2026-11-01 10:00:00", "0", "3.4e38", "1", "s"));
    rows.add(raw("NON_FINITE_OVERFLOW", "2026-11-01 10:00:00", "0", "1e400", "1", "s"));
    rows.add(raw("dup", "2026-11-01 09:00:00", "0", "1", "1", "first"));
    rows.add(raw("dup", "2026-11-01 08:00:00", "1", "2", "2", "earliest"));
    rows.add(raw("dup", "2026-11-01 09:00:00", "0", "1", "1", "first"));
    return spark.createDataFrame(rows, RAW);
  }

  @Test
  void everyRowGetsExactlyTheFirstRuleItBreaks() {
    Dataset<Row> v = IngestRules.validate(day(), SCHEMA, DAY, MAX_LENGTH);
    Map<String, List<String>> reasonsById = new HashMap<>();
    for (Row r : v.select("id", IngestRules.REASON).collectAsList()) {
      reasonsById.computeIfAbsent(String.valueOf(r.get(0)), k -> new ArrayList<>()).add(r.getString(1));
    }
    assertThat(reasonsById.get("ok1")).containsExactly((String) null);
    assertThat(reasonsById.get("ok2")).containsExactly((String) null);
    assertThat(reasonsById.get("ok3")).containsExactly((String) null);
    assertThat(reasonsById.get("null")).containsExactly("MISSING_ID");
    assertThat(reasonsById.get("   ")).containsExactly("MISSING_ID");
    assertThat(reasonsById.get("MISSING_TIME")).containsExactly("MISSING_TIME");
    assertThat(reasonsById.get("BAD_TIME")).containsExactly("BAD_TIME");
    assertThat(reasonsById.get("MISSING_LABEL")).containsExactly("MISSING_LABEL");
    assertThat(reasonsById.get("BAD_LABEL")).containsExactly("BAD_LABEL");
    assertThat(reasonsById.get("BAD_LABEL_TEXT")).containsExactly("BAD_LABEL");
    assertThat(reasonsById.get("NON_NUMERIC")).containsExactly("NON_NUMERIC");
    assertThat(reasonsById.get("NON_FINITE")).containsExactly("NON_FINITE");
    assertThat(reasonsById.get("NON_FINITE_NAN")).containsExactly("NON_FINITE");
    assertThat(reasonsById.get("WRONG_DATE")).containsExactly("WRONG_DATE");
    assertThat(reasonsById.get("INVALID_ENCODING")).containsExactly("INVALID_ENCODING");
    assertThat(reasonsById.get("VALUE_TOO_LONG")).containsExactly("VALUE_TOO_LONG");
    assertThat(reasonsById.get("LONGEST_OK")).containsExactly((String) null);
    assertThat(reasonsById.get("OUT_OF_RANGE")).containsExactly("OUT_OF_RANGE");
    assertThat(reasonsById.get("FLOAT_MAX_OK")).containsExactly((String) null);
    assertThat(reasonsById.get("NON_FINITE_OVERFLOW")).as("past a double's range reads as infinite")
        .containsExactly("NON_FINITE");
    assertThat(reasonsById.get("dup")).containsExactlyInAnyOrder(null, "DUPLICATE_ID", "DUPLICATE_ID");
  }

  @Test
  void ansiModeQuarantinesTheSameRowsInsteadOfFailing() {
    // Without ANSI mode the parse is a plain cast (the GPU runs it); with it, try_cast: same reasons either way.
    List<Row> plain = IngestRules.validate(day(), SCHEMA, DAY, MAX_LENGTH).select("id", IngestRules.REASON)
        .collectAsList();
    spark.conf().set("spark.sql.ansi.enabled", "true");
    try {
      List<Row> ansi = IngestRules.validate(day(), SCHEMA, DAY, MAX_LENGTH).select("id", IngestRules.REASON)
          .collectAsList();
      assertThat(ansi).containsExactlyInAnyOrderElementsOf(plain);
    } finally {
      spark.conf().unset("spark.sql.ansi.enabled");
    }
  }

  @Test
  void rowsAreConservedAndTheEarliestDuplicateIsKept() {
    Dataset<Row> v = IngestRules.validate(day(), SCHEMA, DAY, MAX_LENGTH);
    Timestamp now = Timestamp.valueOf("2026-11-02 01:00:00");
    List<Row> events = IngestRules.events(v, SCHEMA, DAY, now).collectAsList();
    List<Row> quarantine = IngestRules.quarantine(v, SCHEMA, DAY, MAX_LENGTH, now).collectAsList();
    assertEquals(day().count(), events.size() + quarantine.size(), "rows in = events + quarantine");
    assertEquals(6, events.size(), "ok1, ok2, ok3, the longest value and the largest float allowed, and one dup");
    Row kept = events.stream().filter(r -> r.getString(0).equals("dup")).findFirst().orElseThrow();
    assertEquals("earliest", kept.getAs("site"), "the earliest event of a duplicated id is kept");
  }

  @Test
  void validRowsAreTypedTrimmedAndMissingStaysNull() {
    Dataset<Row> v = IngestRules.validate(day(), SCHEMA, DAY, MAX_LENGTH);
    Map<String, Row> byId = new HashMap<>();
    for (Row r : IngestRules.events(v, SCHEMA, DAY, new Timestamp(0)).collectAsList()) {
      byId.put(r.getString(0), r);
    }
    Row ok2 = byId.get("ok2");
    assertEquals(Timestamp.valueOf("2026-11-01 23:59:59"), ok2.getAs("ts"));
    assertEquals(0, (int) ok2.<Integer>getAs("y"));
    assertNull(ok2.getAs("x1"), "empty numeric is missing, not zero");
    assertNull(ok2.getAs("x2"));
    Row ok3 = byId.get("ok3");
    assertEquals(-2000.0, ok3.<Double>getAs("x1"));
    assertEquals(1, (int) ok3.<Integer>getAs("y"), "label 1.0 is 1");
    assertNull(ok3.getAs("site"), "blank categorical is missing");
    assertEquals(java.sql.Date.valueOf(DAY), ok3.getAs("dt"));
  }

  @Test
  void quarantineRowsSayWhatIsWrongAndKeepTheRawValues() {
    Dataset<Row> v = IngestRules.validate(day(), SCHEMA, DAY, MAX_LENGTH);
    Map<String, Row> byReason = new HashMap<>();
    Map<String, Row> byId = new HashMap<>();
    for (Row r : IngestRules.quarantine(v, SCHEMA, DAY, MAX_LENGTH, new Timestamp(0)).collectAsList()) {
      byReason.putIfAbsent(r.getString(r.fieldIndex("reason")), r);
      byId.put(r.<String>getAs("raw").replaceAll("^\\{\"id\":\"?([^\",]*).*$", "$1"), r);
    }
    assertThat(byReason.get("NON_NUMERIC").<String>getAs("detail")).isEqualTo("x2 'n/a' is not a number");
    assertThat(byReason.get("INVALID_ENCODING").<String>getAs("detail"))
        .isEqualTo("site 'caf\uFFFD' holds bytes that are not valid UTF-8 (shown as \uFFFD)");
    assertThat(byReason.get("VALUE_TOO_LONG").<String>getAs("detail")).startsWith("site is 31 characters long, over "
        + "nightscore.ingest.max-value-length = 30: 'sss");
    assertThat(byReason.get("OUT_OF_RANGE").<String>getAs("detail")).startsWith("x1 '-3.5e38' is beyond the range");
    assertThat(byId.get("NON_FINITE").<String>getAs("detail")).contains("x1 'Infinity'");
    assertThat(byReason.get("BAD_LABEL").<String>getAs("detail")).contains("y '").contains("is not 0 or 1");
    assertThat(byReason.get("BAD_TIME").<String>getAs("detail")).contains("'2026-13-45 99:00'");
    assertThat(byReason.get("WRONG_DATE").<String>getAs("detail"))
        .contains("2026-10-31").contains("--date 2026-11-01");
    assertThat(byReason.get("DUPLICATE_ID").<String>getAs("detail")).contains("'dup' already seen");
    assertThat(byReason.get("NON_NUMERIC").<String>getAs("raw"))
        .contains("\"x2\":\"n/a\"").contains("\"id\":\"NON_NUMERIC\"");
  }

  @Test
  void typedInputIsCheckedToo() {
    StructType typed = new StructType().add("id", DataTypes.LongType).add("ts", DataTypes.TimestampType)
        .add("y", DataTypes.IntegerType).add("x1", DataTypes.DoubleType).add("x2", DataTypes.DoubleType)
        .add("site", DataTypes.StringType);
    Dataset<Row> raw = spark.createDataFrame(List.of(
        RowFactory.create(1L, Timestamp.valueOf("2026-11-01 01:00:00"), 1, 1.0, Double.NaN, "s"),
        RowFactory.create(2L, Timestamp.valueOf("2026-11-01 01:00:00"), 3, 1.0, 2.0, "s"),
        RowFactory.create(3L, Timestamp.valueOf("2026-11-01 01:00:00"), 0, null, 2.0, "s")), typed);
    List<String> reasons = IngestRules.validate(raw, SCHEMA, DAY, MAX_LENGTH).orderBy("id")
        .select(IngestRules.REASON).as(org.apache.spark.sql.Encoders.STRING()).collectAsList();
    assertEquals(java.util.Arrays.asList("NON_FINITE", "BAD_LABEL", null), reasons);
  }

  @Test
  void aDuplicateIsJudgedAmongValidRowsOfTheTrimmedId() {
    // The earliest row of "mix" breaks a rule: the earliest valid row is the one kept, and " mix " is the same id.
    Dataset<Row> raw = spark.createDataFrame(List.of(
        raw("mix", "2026-11-01 07:00:00", "2", "1", "1", "bad label"),
        raw("mix", "2026-11-01 09:00:00", "0", "1", "1", "later"),
        raw("mix", "2026-11-01 08:00:00", "0", "1", "1", "earliest valid"),
        raw(" mix ", "2026-11-01 10:00:00", "0", "1", "1", "padded")), RAW);
    Map<String, String> reasonBySite = new HashMap<>();
    for (Row r : IngestRules.validate(raw, SCHEMA, DAY, MAX_LENGTH).select("site", IngestRules.REASON)
        .collectAsList()) {
      reasonBySite.put(r.getString(0), r.getString(1));
    }
    assertThat(reasonBySite).containsEntry("bad label", "BAD_LABEL").containsEntry("earliest valid", null)
        .containsEntry("later", "DUPLICATE_ID").containsEntry("padded", "DUPLICATE_ID");
  }

  @Test
  void reportsSchemaColumnsTheInputLacks() {
    Dataset<Row> partial = day().drop("x2", "site");
    assertEquals(List.of("x2", "site"), IngestRules.missingColumns(partial, SCHEMA));
    assertEquals(List.of(), IngestRules.missingColumns(day(), SCHEMA));
  }
}
