package io.nightscore.common.table;

import io.delta.tables.DeltaTable;
import io.nightscore.common.config.Settings;
import io.nightscore.common.sql.SqlSafety;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Table and artifact locations under the warehouse root, catalog registration and Delta reads and writes. */
public final class Warehouse {
  private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();
  private static final Logger LOG = LoggerFactory.getLogger(Warehouse.class);

  private final SparkSession spark;
  private final String root;
  private final String database;

  public Warehouse(SparkSession spark, Settings settings) {
    this.spark = spark;
    this.database = settings.database();
    Path path = new Path(settings.warehouse());
    try {
      FileSystem fs = path.getFileSystem(spark.sparkContext().hadoopConfiguration());
      this.root = SqlSafety.checkPath(fs.makeQualified(path).toString(), "nightscore.warehouse");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open warehouse '" + settings.warehouse() + "'", e);
    }
  }

  public SparkSession spark() {
    return spark;
  }

  /** The fully qualified warehouse root (e.g. file:/..., s3a://bucket/prefix). */
  public String root() {
    return root;
  }

  public String database() {
    return database;
  }

  public String path(Table table) {
    return root + "/tables/" + table.sqlName();
  }

  /** {@code <database>.<table>}, both validated identifiers. */
  public String qualified(Table table) {
    return database + "." + table.sqlName();
  }

  /**
   * Where the artifacts of one training run live. Runs, not versions, name the folder: two retrains racing
   * for the same next version must never write into each other's files. A run id is a UUID.
   */
  public String modelPath(String runId) {
    return modelsRoot() + "/run-" + java.util.UUID.fromString(runId);
  }

  /** The folder holding every training run's artifact folder. */
  public String modelsRoot() {
    return root + "/models";
  }

  public boolean exists(Table table) {
    return DeltaTable.isDeltaTable(spark, path(table));
  }

  /**
   * Makes every existing table addressable as {@code <database>.<table>}. Tables are path-based Delta
   * tables; the catalog entry only points at them, so any number of jobs may run at once without a
   * shared metastore lock, and a Hive metastore on a cluster sees the same names.
   */
  public void registerTables() {
    for (Table table : Table.values()) {
      register(table);
    }
  }

  /** Registers one table in the catalog if its Delta log exists (idempotent). */
  public void register(Table table) {
    if (exists(table)) {
      spark.sql("CREATE DATABASE IF NOT EXISTS " + database + " LOCATION "
          + SqlSafety.pathLiteral(root + "/catalog/" + database + ".db"));
      spark.sql("CREATE TABLE IF NOT EXISTS " + qualified(table) + " USING DELTA LOCATION "
          + SqlSafety.pathLiteral(path(table)));
    }
  }

  /** The newest committed version of a table. */
  public long latestVersion(Table table) {
    requireExists(table);
    return DeltaTable.forPath(spark, path(table)).history(1).select("version").head().getLong(0);
  }

  public Dataset<Row> read(Table table) {
    requireExists(table);
    return spark.read().format("delta").load(path(table));
  }

  /** The table as of one committed version (Delta time travel). */
  public Dataset<Row> readAt(Table table, long version) {
    requireExists(table);
    return spark.read().format("delta").option("versionAsOf", version).load(path(table));
  }

  /** One day of a dt-partitioned table as of one committed version: a filter on the partition column. */
  public Dataset<Row> dayAt(Table table, long version, LocalDate date) {
    return readAt(table, version).where(onDay(date));
  }

  /** One day of a dt-partitioned table as it is now: a filter on the partition column. */
  public Dataset<Row> day(Table table, LocalDate date) {
    return read(table).where(onDay(date));
  }

  private static org.apache.spark.sql.Column onDay(LocalDate date) {
    return org.apache.spark.sql.functions.col("dt")
        .equalTo(org.apache.spark.sql.functions.lit(java.sql.Date.valueOf(date)));
  }

  /**
   * Replaces exactly one day of a dt-partitioned table: a rerun or a backfill of the same date never
   * duplicates rows and never touches another date. Returns the commit's version and rows written.
   */
  public Commit overwriteDay(Dataset<Row> day, Table table, LocalDate date) {
    return overwriteDay(day, table, date, null);
  }

  /**
   * As {@link #overwriteDay(Dataset, Table, LocalDate)}, with {@code userMetadata} stored in the Delta commit as a
   * JSON object, where {@code DESCRIBE HISTORY} and the {@code check} job read it.
   */
  public Commit overwriteDay(Dataset<Row> day, Table table, LocalDate date, Map<String, Object> userMetadata) {
    return overwriteDays(day, table, date, date, userMetadata);
  }

  /**
   * Replaces the days {@code from} .. {@code to} of a table partitioned by day ({@link Table#partitionColumn()})
   * with {@code days} in one commit, as {@link #overwriteDay(Dataset, Table, LocalDate, Map)} does one day.
   */
  public Commit overwriteDays(Dataset<Row> days, Table table, LocalDate from, LocalDate to,
      Map<String, Object> userMetadata) {
    String column = table.partitionColumn();
    if (column == null) {
      throw new IllegalArgumentException(qualified(table) + " is not partitioned by day");
    }
    String condition = from.equals(to) ? column + " = " + SqlSafety.dateLiteral(from)
        : column + " >= " + SqlSafety.dateLiteral(from) + " AND " + column + " <= " + SqlSafety.dateLiteral(to);
    // A write id in the commit's metadata finds this job's own commit in the history afterwards: with other
    // jobs writing other dates at the same time, "the latest commit" may be theirs.
    String writeId = java.util.UUID.randomUUID().toString();
    Map<String, Object> fields = new java.util.LinkedHashMap<>();
    fields.put("write_id", writeId);
    if (userMetadata != null) {
      fields.putAll(userMetadata);
    }
    String metadata;
    try {
      metadata = JSON.writeValueAsString(fields);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException("commit metadata is not JSON-serialisable: " + fields.keySet(), e);
    }
    org.apache.spark.sql.DataFrameWriter<Row> writer = days.write().format("delta").mode("overwrite")
        .option("replaceWhere", condition)
        .option("userMetadata", metadata)
        .option("mergeSchema", table.addsColumns())
        .partitionBy(column);
    try {
      writer.save(path(table));
    } catch (io.delta.exceptions.ProtocolChangedException e) {
      // Two jobs creating the table at once (the first nights of a backfill): Delta lets one create it and
      // fails the other. The write replaces one date only, so writing again on the created table is safe.
      LOG.info("{} was created by a concurrent job while writing {} ({}); writing again", qualified(table),
          condition, e.getClass().getSimpleName());
      writer.save(path(table));
    }
    Commit commit = commitOf(table, writeId);
    register(table);
    LOG.info("{} {}={}: wrote {} rows, table version {}", qualified(table), column,
        from.equals(to) ? from : from + ".." + to,
        commit.rowsWritten() < 0 ? "an unreported number of" : commit.rowsWritten(), commit.version());
    return commit;
  }

  /**
   * The commit that carries {@code writeId}. Delta makes no commit when a write changes nothing (no rows for
   * a date that had none): that is zero rows written, at the table's current version.
   */
  private Commit commitOf(Table table, String writeId) {
    List<Row> rows = DeltaTable.forPath(spark, path(table)).history(50)
        .where(org.apache.spark.sql.functions.col("userMetadata").contains(writeId))
        .select("version", "operationMetrics").collectAsList();
    if (rows.isEmpty()) {
      return new Commit(latestVersion(table), 0);
    }
    Map<String, String> metrics = rows.get(0).getJavaMap(1);
    long written = metrics == null || metrics.get("numOutputRows") == null
        ? -1 : Long.parseLong(metrics.get("numOutputRows"));
    return new Commit(rows.get(0).getLong(0), written);
  }

  /**
   * The userMetadata (JSON object) of the newest commit of {@code table} that wrote {@code date} with
   * metadata naming it ({@code "dt":"yyyy-MM-dd"}), e.g. what ingest recorded of its input; empty if none.
   */
  public java.util.Optional<Map<String, Object>> dayMetadata(Table table, LocalDate date) {
    List<Row> rows = DeltaTable.forPath(spark, path(table)).history()
        .where(org.apache.spark.sql.functions.col("userMetadata").contains("\"dt\":\"" + date + "\""))
        .orderBy(org.apache.spark.sql.functions.col("version").desc()).select("userMetadata").limit(1)
        .collectAsList();
    if (rows.isEmpty()) {
      return java.util.Optional.empty();
    }
    try {
      return java.util.Optional.of(JSON.readValue(rows.get(0).getString(0),
          new com.fasterxml.jackson.core.type.TypeReference<Map<String, Object>>() {}));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("commit metadata of " + qualified(table) + " for " + date
          + " is not JSON: " + rows.get(0).getString(0), e);
    }
  }

  /**
   * Replaces the rows matching {@code condition} with {@code rows} in one commit (creating the table on
   * first use). The condition must be built from validated values only.
   */
  public Commit replace(Dataset<Row> rows, Table table, String condition) {
    if (!exists(table)) {
      return append(rows, table);
    }
    rows.write().format("delta").mode("overwrite").option("replaceWhere", condition).save(path(table));
    Commit commit = lastCommit(table);
    register(table);
    return commit;
  }

  /** Appends rows to a table, creating it on first use. */
  public Commit append(Dataset<Row> rows, Table table) {
    rows.write().format("delta").mode("append").save(path(table));
    Commit commit = lastCommit(table);
    register(table);
    return commit;
  }

  private Commit lastCommit(Table table) {
    Row last = DeltaTable.forPath(spark, path(table)).history(1)
        .select("version", "operationMetrics").head();
    Map<String, String> metrics = last.getJavaMap(1);
    long rows = metrics == null || metrics.get("numOutputRows") == null
        ? -1 : Long.parseLong(metrics.get("numOutputRows"));
    return new Commit(last.getLong(0), rows);
  }

  private void requireExists(Table table) {
    if (!exists(table)) {
      throw new IllegalStateException("table " + qualified(table) + " does not exist yet at " + path(table)
          + ": run the job that creates it first (events: ingest; scores: score; models: retrain)");
    }
  }

  /** One Delta commit: its version and the rows it wrote (-1 if Delta did not report them). */
  public record Commit(long version, long rowsWritten) {}
}
