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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.Map;
import org.junit.jupiter.api.Test;

class IngestJobTest extends SparkTestBase {

  static final String HEADER = "id,ts,y,x1,site\n";

  static Settings settings(Path warehouse) {
    return Settings.defaults(Map.of(
        "nightscore.warehouse", warehouse.toString(),
        "nightscore.schema.id", "id", "nightscore.schema.time", "ts", "nightscore.schema.label", "y",
        "nightscore.schema.numeric", "[x1]", "nightscore.schema.categorical", "[site]"));
  }

  static Path csv(String name, String body) throws Exception {
    Path dir = scratch.resolve(name);
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("part-0.csv"), HEADER + body);
    return dir;
  }

  @Test
  void tooManyBadRowsWritesQuarantineButNoEvents() throws Exception {
    Path wh = scratch.resolve("wh-limit");
    Settings s = settings(wh);
    Path input = csv("limit", "a,2026-11-01 01:00:00,1,1,s\nb,2026-11-01 01:00:00,7,1,s\n"
        + "c,2026-11-01 01:00:00,0,abc,s\n");
    assertThatThrownBy(() -> IngestJob.run(spark, s,
        new IngestJob.Options(LocalDate.of(2026, 11, 1), input.toString(), IngestJob.Format.CSV)))
        .isInstanceOf(JobFailedException.class)
        .hasMessageContaining("2 of 3 rows")
        .hasMessageContaining("max-quarantine-share")
        .hasMessageContaining("BAD_LABEL=1").hasMessageContaining("NON_NUMERIC=1")
        .hasMessageContaining("nothing was written to nightscore.events");
    Warehouse w = new Warehouse(spark, s);
    assertFalse(w.exists(Table.EVENTS), "no events written for a refused day");
    assertEquals(2, w.read(Table.QUARANTINE).count(), "the refused rows are kept for inspection");
  }

  @Test
  void aLineCutShortOrTooLongIsQuarantinedAsMalformedBeforeAnyOtherCheck() throws Exception {
    Path wh = scratch.resolve("wh-malformed");
    Settings s = settings(wh).with(Map.of("nightscore.ingest.max-quarantine-share", "0.9"));
    // Row b is cut short: without its own check it was ingested with nulls in x1 and site. Row c has an extra
    // field, row d is short and has no label (the malformed check comes first).
    Path input = csv("malformed", "a,2026-11-01 01:00:00,1,1.5,s\nb,2026-11-01 01:00:00,0\n"
        + "c,2026-11-01 02:00:00,0,2,s,extra\nd,2026-11-01 03:00:00\ne,2026-11-01 04:00:00,0,\"1\",\"t,u\"\n");
    IngestJob.Result r = IngestJob.run(spark, s,
        new IngestJob.Options(LocalDate.of(2026, 11, 1), input.toString(), IngestJob.Format.CSV));
    assertEquals(5, r.rowsIn());
    assertEquals(2, r.rowsWritten(), "a and e (a quoted delimiter is one field)");
    assertEquals(Map.of("MALFORMED_ROW", 3L), r.reasons());
    Warehouse w = new Warehouse(spark, s);
    assertThat(w.read(Table.QUARANTINE).where("raw LIKE '%\"b\"%'").head().<String>getAs("detail"))
        .contains("does not parse into the header's").contains("'b,2026-11-01 01:00:00,0'");
    assertThat(w.read(Table.EVENTS).where("id = 'e'").head().<String>getAs("site")).isEqualTo("t,u");
  }

  @Test
  void anEmptyDayIsRefusedWithAClearErrorAndNothingWritten() throws Exception {
    Path wh = scratch.resolve("wh-empty");
    Path noFiles = Files.createDirectories(scratch.resolve("no-files"));
    Path headerOnly = csv("header-only", "");
    Path emptyFile = Files.createDirectories(scratch.resolve("empty-file"));
    Files.writeString(emptyFile.resolve("part-0.csv"), "");
    for (Path input : new Path[] {noFiles, headerOnly, emptyFile, scratch.resolve("no-such-folder")}) {
      assertThatThrownBy(() -> IngestJob.run(spark, settings(wh),
          new IngestJob.Options(LocalDate.of(2026, 11, 1), input.toString(), IngestJob.Format.CSV)))
          .as(input.getFileName().toString()).isInstanceOf(JobFailedException.class)
          .hasMessageContaining(input.getFileName().toString()).hasMessageContaining("nothing was written");
    }
    assertFalse(new Warehouse(spark, settings(wh)).exists(Table.QUARANTINE));
    assertFalse(new Warehouse(spark, settings(wh)).exists(Table.EVENTS));
  }

  @Test
  void missingColumnsAreRefusedBeforeAnyWrite() throws Exception {
    Path wh = scratch.resolve("wh-cols");
    Path dir = scratch.resolve("cols");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("p.csv"), "id,ts,y\na,2026-11-01 01:00:00,1\n");
    assertThatThrownBy(() -> IngestJob.run(spark, settings(wh),
        new IngestJob.Options(LocalDate.of(2026, 11, 1), dir.toString(), IngestJob.Format.CSV)))
        .isInstanceOf(JobFailedException.class)
        .hasMessageContaining("[x1, site]");
    assertFalse(new Warehouse(spark, settings(wh)).exists(Table.QUARANTINE));
  }

  @Test
  void jsonAndParquetInputsWork() throws Exception {
    Path wh = scratch.resolve("wh-formats");
    Settings s = settings(wh);
    Path json = scratch.resolve("json");
    Files.createDirectories(json);
    Files.writeString(json.resolve("p.json"),
        "{\"id\":\"a\",\"ts\":\"2026-11-01 01:00:00\",\"y\":1,\"x1\":2.5,\"site\":\"s\"}\n"
            + "{\"id\":\"b\",\"ts\":\"2026-11-01 02:00:00\",\"y\":0,\"x1\":null,\"site\":null}\n");
    IngestJob.Result r = IngestJob.run(spark, s,
        new IngestJob.Options(LocalDate.of(2026, 11, 1), json.toString(), IngestJob.Format.JSON));
    assertEquals(2, r.rowsWritten());

    Path parquet = scratch.resolve("parquet");
    new Warehouse(spark, s).read(Table.EVENTS).drop("dt", "ingested_at").write().parquet(parquet.toString());
    IngestJob.Result p = IngestJob.run(spark, s,
        new IngestJob.Options(LocalDate.of(2026, 11, 1), parquet.toString(), IngestJob.Format.PARQUET));
    assertEquals(2, p.rowsWritten(), "typed Parquet input passes the same contract");
    assertEquals(0, p.rowsQuarantined());
    assertThat(new Warehouse(spark, s).read(Table.EVENTS).count()).isEqualTo(2);
  }

  @Test
  void emptyInputIsAnErrorNotASilentEmptyDay() throws Exception {
    Path input = csv("empty", "");
    assertThatThrownBy(() -> IngestJob.run(spark, settings(scratch.resolve("wh-empty")),
        new IngestJob.Options(LocalDate.of(2026, 11, 1), input.toString(), IngestJob.Format.CSV)))
        .isInstanceOf(JobFailedException.class).hasMessageContaining("has no rows");
  }

  /** Whether the plan has a whole-stage compiled stage holding a projection. */
  static boolean projectionCompiled(org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> rows) {
    return rows.queryExecution().executedPlan().find(p -> p instanceof
        org.apache.spark.sql.execution.WholeStageCodegenExec && p.find(
            c -> c instanceof org.apache.spark.sql.execution.ProjectExec).isDefined()).isDefined();
  }

  @Test
  void wideChecksAreCompiledAndTheSessionSettingIsPutBack() {
    org.apache.spark.sql.Column[] wide = new org.apache.spark.sql.Column[150];
    for (int i = 0; i < wide.length; i++) {
      wide[i] = org.apache.spark.sql.functions.col("id").plus(i).as("c" + i);
    }
    assertFalse(spark.conf().getAll().contains(IngestJob.MAX_FIELDS), "the test session leaves it unset");
    assertFalse(projectionCompiled(spark.range(10).select(wide)), "Spark's default interprets 150 columns");
    assertThat(IngestJob.compiledUpTo(spark, 150, () -> projectionCompiled(spark.range(10).select(wide))))
        .as("compiled inside").isTrue();
    assertFalse(spark.conf().getAll().contains(IngestJob.MAX_FIELDS), "unset again after");

    spark.conf().set(IngestJob.MAX_FIELDS, "200");
    try {
      assertThat(IngestJob.compiledUpTo(spark, 150, () -> spark.conf().get(IngestJob.MAX_FIELDS))).isEqualTo("200");
      assertEquals("200", spark.conf().get(IngestJob.MAX_FIELDS), "a higher setting is kept");
    } finally {
      spark.conf().unset(IngestJob.MAX_FIELDS);
    }
  }
}
