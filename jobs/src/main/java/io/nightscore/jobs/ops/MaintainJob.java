package io.nightscore.jobs.ops;

import io.delta.tables.DeltaTable;
import io.nightscore.common.config.Settings;
import io.nightscore.common.registry.ModelRegistry;
import io.nightscore.common.registry.ModelStore;
import io.nightscore.common.sql.SqlSafety;
import io.nightscore.common.table.Table;
import io.nightscore.common.table.Warehouse;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Table maintenance for one day: OPTIMIZE the day's partition of every table partitioned by day (dt, or arrived
 * for labels; bin-packing its small files; Z-ordered by event id where users look rows up and join by id), then VACUUM every table
 * with a retention that keeps the champion's training data readable by time travel.
 */
public final class MaintainJob {
  private static final Logger LOG = LoggerFactory.getLogger(MaintainJob.class);

  /** What OPTIMIZE and VACUUM did to one table (-1 where the step did not run). */
  public record TableResult(Table table, long filesRemoved, long filesAdded, long filesVacuumed) {}

  public record Result(LocalDate date, long retentionHours, List<TableResult> tables, List<String> runsRemoved) {
    /** One result line per table, and one for the artifact folders of runs that never registered. */
    public List<String> lines() {
      List<String> lines = new ArrayList<>(tables.stream().map(t -> String.format(Locale.ROOT,
          "maintain %s: table=%s optimize_files_removed=%d optimize_files_added=%d vacuum_files_deleted=%d "
          + "retention_hours=%d", date, t.table().sqlName(), t.filesRemoved(), t.filesAdded(), t.filesVacuumed(),
          retentionHours)).toList());
      lines.add(String.format(Locale.ROOT, "maintain %s: unregistered_runs_removed=%d", date, runsRemoved.size()));
      return lines;
    }
  }

  private MaintainJob() {}

  public static Result run(SparkSession spark, Settings settings, LocalDate date) {
    Warehouse warehouse = new Warehouse(spark, settings);
    // A retrain that died between registering its model and the gate's decision leaves an undecided version.
    new ModelRegistry(warehouse).abandonUndecided(new ModelStore(warehouse), settings.gate().abandonAfter(),
        Instant.now());
    // A retrain that died between writing its artifacts and registering them leaves a folder nothing points at.
    List<String> runsRemoved = new ModelStore(warehouse).removeUnregistered(
        Duration.ofHours(settings.retentionHours()), Instant.now());
    long retention = retentionHours(warehouse, settings.retentionHours());
    List<TableResult> results = new ArrayList<>();
    for (Table table : Table.values()) {
      if (!warehouse.exists(table)) {
        continue;
      }
      String target = "delta.`" + SqlSafety.checkPath(warehouse.path(table), "table path") + "`";
      long removed = -1;
      long added = -1;
      if (table.partitionColumn() != null) {
        spark.sparkContext().setJobDescription("maintain " + date + ": OPTIMIZE " + table.sqlName());
        boolean byId = table == Table.EVENTS || table == Table.SCORES || table == Table.SCORES_SHADOW
            || table == Table.LABELS;
        String zorder = !byId ? ""
            : " ZORDER BY (" + SqlSafety.checkIdentifier(settings.schema().id(), "id column") + ")";
        Row metrics = spark.sql("OPTIMIZE " + target + " WHERE " + table.partitionColumn() + " = "
            + SqlSafety.dateLiteral(date) + zorder).head().getStruct(1);
        removed = metrics.getLong(metrics.fieldIndex("numFilesRemoved"));
        added = metrics.getLong(metrics.fieldIndex("numFilesAdded"));
      }
      spark.sparkContext().setJobDescription("maintain " + date + ": VACUUM " + table.sqlName());
      spark.sql("VACUUM " + target + " RETAIN " + retention + " HOURS");
      long vacuumed = lastVacuumDeleted(warehouse, table);
      LOG.info("maintain {}: {} optimize removed {} added {} files; vacuum (retain {} h) deleted {} files", date,
          warehouse.qualified(table), removed, added, retention, vacuumed);
      results.add(new TableResult(table, removed, added, vacuumed));
    }
    return new Result(date, retention, results, runsRemoved);
  }

  /**
   * The configured retention, raised so that the events version the champion was trained on stays
   * readable: VACUUM may only delete files that no version younger than the retention needs.
   */
  static long retentionHours(Warehouse warehouse, long configured) {
    Optional<ModelRegistry.Alias> champion = new ModelRegistry(warehouse).champion();
    if (champion.isEmpty() || !warehouse.exists(Table.EVENTS)) {
      return configured;
    }
    long eventsVersion = new ModelStore(warehouse).get(champion.get().version()).eventsVersion();
    List<Row> commit = DeltaTable.forPath(warehouse.spark(), warehouse.path(Table.EVENTS)).history()
        .where(functions.col("version").equalTo(eventsVersion)).select("timestamp").collectAsList();
    if (commit.isEmpty()) {
      LOG.warn("the champion's training events version {} is no longer in the Delta log", eventsVersion);
      return configured;
    }
    Instant at = commit.get(0).getTimestamp(0).toInstant();
    long needed = Duration.between(at, Instant.now()).toHours() + 24;
    return Math.max(configured, needed);
  }

  private static long lastVacuumDeleted(Warehouse warehouse, Table table) {
    List<Row> rows = DeltaTable.forPath(warehouse.spark(), warehouse.path(table)).history(5)
        .where(functions.col("operation").equalTo("VACUUM END")).select("operationMetrics").collectAsList();
    if (rows.isEmpty()) {
      return -1;
    }
    Map<String, String> m = rows.get(0).getJavaMap(0);
    return m == null || m.get("numDeletedFiles") == null ? -1 : Long.parseLong(m.get("numDeletedFiles"));
  }
}
