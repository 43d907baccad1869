package io.nightscore.common.registry;

import static io.nightscore.common.table.RowCodec.booleanCol;
import static io.nightscore.common.table.RowCodec.dateCol;
import static io.nightscore.common.table.RowCodec.doubleCol;
import static io.nightscore.common.table.RowCodec.listCol;
import static io.nightscore.common.table.RowCodec.longCol;
import static io.nightscore.common.table.RowCodec.stringCol;
import static io.nightscore.common.table.RowCodec.timestampCol;
import static org.apache.spark.sql.functions.col;

import io.nightscore.common.sql.SqlSafety;
import io.nightscore.common.table.RowCodec;
import io.nightscore.common.table.Table;
import io.nightscore.common.table.Warehouse;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.ConcurrentModificationException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model registry's moving parts, in the vocabulary of MLflow: versions (the immutable rows of
 * {@code models}) and the {@code champion} alias that points at one of them ({@code model_aliases}). The
 * alias moves only by one conditional Delta commit, so two writers that both believe they replace the same
 * champion cannot both succeed. Every decision about a version is appended to {@code model_decisions}.
 */
public final class ModelRegistry {
  private static final Logger LOG = LoggerFactory.getLogger(ModelRegistry.class);

  public static final String CHAMPION = "champion";

  /** Tries at moving the alias before giving up when other writers keep moving it. */
  public static final int MAX_ATTEMPTS = 5;

  /** What a version is now: never judged, judged and kept out, the champion, or a former champion. */
  public enum Status { CHALLENGER, REJECTED, CHAMPION, ARCHIVED, ABANDONED, APPROVED }

  /** The action of a decision recorded for a version whose retrain ended before the gate decided. */
  public static final String ABANDONED = "abandoned";

  /**
   * The action of a gate decision that passes a model for the day after its holdout while a newer champion (one
   * that trained on that day) stays: the model is not made champion, but scores the days it qualifies for and
   * the champion does not (a backfill, or two nights finishing out of order).
   */
  public static final String APPROVED = "approved";

  static final StructType ALIAS_SCHEMA = new StructType()
      .add("alias", DataTypes.StringType, false)
      .add("version", DataTypes.LongType, false)
      .add("history", DataTypes.createArrayType(DataTypes.LongType, false), false)
      .add("updated_at", DataTypes.TimestampType, false)
      .add("decision_id", DataTypes.StringType, false);

  /**
   * The champion alias: the version it points at and the earlier champions, most recent first (what
   * {@code rollback} goes back to).
   */
  public record Alias(long version, List<Long> history, Instant updatedAt, String decisionId) {}

  /** One decision about one version, with the numbers it was made on (null where not measured). */
  public record Decision(String id, Instant decidedAt, long modelVersion, String action, boolean promoted,
      Long championBefore, Long championAfter, LocalDate dt, Double challengerAuc, Double challengerLogLoss,
      Double challengerCalibrationRatio, Double challengerNormalizedEntropy, Double championAuc,
      Double championLogLoss, Double championCalibrationRatio, List<String> reasons, String actor, String note) {

    private static final RowCodec<Decision> CODEC = RowCodec.of(Decision.class,
        stringCol("decision_id", false, Decision::id),
        timestampCol("decided_at", Decision::decidedAt),
        longCol("model_version", false, Decision::modelVersion),
        stringCol("action", false, Decision::action),
        booleanCol("promoted", Decision::promoted),
        longCol("champion_before", true, Decision::championBefore),
        longCol("champion_after", true, Decision::championAfter),
        dateCol("dt", true, Decision::dt),
        doubleCol("challenger_auc", true, Decision::challengerAuc),
        doubleCol("challenger_logloss", true, Decision::challengerLogLoss),
        doubleCol("challenger_calibration_ratio", true, Decision::challengerCalibrationRatio),
        doubleCol("challenger_ne", true, Decision::challengerNormalizedEntropy),
        doubleCol("champion_auc", true, Decision::championAuc),
        doubleCol("champion_logloss", true, Decision::championLogLoss),
        doubleCol("champion_calibration_ratio", true, Decision::championCalibrationRatio),
        listCol("reasons", DataTypes.StringType, Decision::reasons),
        stringCol("actor", false, Decision::actor),
        stringCol("note", true, Decision::note));

    /** The model_decisions table's columns. */
    public static final StructType SCHEMA = CODEC.schema();

    Row toRow() {
      return CODEC.toRow(this);
    }

    static Decision fromRow(Row r) {
      return CODEC.fromRow(r);
    }

    /** The decision as a line: when, what, who, the numbers and the reasons that failed (or all if passed). */
    public String describe() {
      StringBuilder sb = new StringBuilder();
      sb.append(String.format(java.util.Locale.ROOT, "%s %s v%d: %s (champion %s -> %s) by %s", decidedAt, action,
          modelVersion, promoted ? "promoted" : APPROVED.equals(action) ? "approved" : "rejected", v(championBefore),
          v(championAfter), actor));
      if (note != null) {
        sb.append(", reason \"").append(note).append('"');
      }
      List<String> failed = reasons.stream().filter(x -> x.startsWith("FAIL")).toList();
      sb.append("; ").append(String.join("; ", failed.isEmpty() ? reasons : failed));
      return sb.toString();
    }

    private static String v(Long version) {
      return version == null ? "none" : "v" + version;
    }
  }

  private final Warehouse warehouse;

  public ModelRegistry(Warehouse warehouse) {
    this.warehouse = warehouse;
  }

  /** A fresh decision id. */
  public static String newDecisionId() {
    return UUID.randomUUID().toString();
  }

  /** The champion alias as committed now, if any model has been promoted. */
  public Optional<Alias> champion() {
    if (!warehouse.exists(Table.MODEL_ALIASES)) {
      return Optional.empty();
    }
    List<Row> rows = warehouse.read(Table.MODEL_ALIASES).where(col("alias").equalTo(CHAMPION)).collectAsList();
    if (rows.isEmpty()) {
      return Optional.empty();
    }
    Row r = rows.get(0);
    return Optional.of(new Alias(r.getLong(1), new ArrayList<>(r.<Long>getList(2)), r.getTimestamp(3).toInstant(),
        r.getString(4)));
  }

  /**
   * Points the champion alias at {@code version} if, and only if, it still points at {@code expected}
   * ({@code null}: no champion yet), in one Delta commit. Returns false, changing nothing, when another
   * writer moved the alias first; the caller re-reads the champion and decides again.
   */
  public boolean moveChampion(Long expected, long version, List<Long> history, String decisionId) {
    if (!warehouse.exists(Table.MODEL_ALIASES)) {
      if (expected != null) {
        return false;
      }
      Row row = aliasRow(version, history, decisionId);
      try {
        // errorifexists: of two writers creating the table at once, Delta lets exactly one commit version 0.
        warehouse.spark().createDataFrame(List.of(row), ALIAS_SCHEMA).write().format("delta").mode("errorifexists")
            .save(warehouse.path(Table.MODEL_ALIASES));
        warehouse.register(Table.MODEL_ALIASES);
        return true;
      } catch (RuntimeException e) {
        if (warehouse.exists(Table.MODEL_ALIASES)) {
          LOG.info("champion alias: another writer created it first ({})", e.getClass().getSimpleName());
          return false;
        }
        throw e;
      }
    }
    if (expected == null) {
      // The alias table is only ever created holding the champion row, so it existing means a champion exists.
      return false;
    }
    String historySql = history.isEmpty() ? "CAST(array() AS ARRAY<BIGINT>)"
        : history.stream().map(v -> "CAST(" + v + " AS BIGINT)").collect(Collectors.joining(", ", "array(", ")"));
    // Only longs, a parsed UUID, a constant and the validated warehouse path (no backticks) reach this statement.
    // The path, not the catalog name: the catalog may point at another warehouse's table of the same name.
    String sql = "UPDATE delta.`" + SqlSafety.checkPath(warehouse.path(Table.MODEL_ALIASES), "alias table path")
        + "` SET version = " + version + ", history = "
        + historySql + ", updated_at = current_timestamp(), decision_id = '" + UUID.fromString(decisionId)
        + "' WHERE alias = '" + CHAMPION + "' AND version = " + expected;
    try {
      long updated = warehouse.spark().sql(sql).head().getLong(0);
      return updated == 1;
    } catch (ConcurrentModificationException e) {
      // Delta's optimistic concurrency: a concurrent commit rewrote the row this update read.
      LOG.info("champion alias: concurrent update lost ({})", e.getClass().getSimpleName());
      return false;
    }
  }

  private static Row aliasRow(long version, List<Long> history, String decisionId) {
    return RowFactory.create(CHAMPION, version, scala.collection.JavaConverters.asScalaBuffer(history).toSeq(),
        Timestamp.from(Instant.now()), decisionId);
  }

  /** The history the alias gets when {@code current} is replaced by a new champion: current first. */
  public static List<Long> historyAfterReplacing(Optional<Alias> current) {
    List<Long> history = new ArrayList<>();
    current.ifPresent(a -> {
      history.add(a.version());
      history.addAll(a.history());
    });
    return history;
  }

  /**
   * Makes a registered version the champion without the gate (an operator's decision), recorded with the
   * actor and their note. Retries when another writer moves the alias at the same moment.
   */
  public Decision promote(long version, String actor, String note) {
    for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      Optional<Alias> current = champion();
      if (current.isPresent() && current.get().version() == version) {
        throw new IllegalArgumentException("v" + version + " is already the champion");
      }
      String id = newDecisionId();
      if (moveChampion(current.map(Alias::version).orElse(null), version, historyAfterReplacing(current), id)) {
        Decision d = manual(id, version, "promote", current.map(Alias::version).orElse(null), version,
            List.of("promoted by " + actor), actor, note);
        record(d);
        LOG.info("champion: v{} -> v{} (promote by {}: {})", current.map(Alias::version).orElse(null), version,
            actor, note);
        return d;
      }
    }
    throw new ConcurrentModificationException("the champion alias kept moving; promote v" + version + " again");
  }

  /**
   * Puts the previous champion back (the one the current champion replaced), recorded with the actor and
   * their note. Repeated rollbacks walk further back.
   */
  public Decision rollback(String actor, String note) {
    for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      Alias current = champion().orElseThrow(() -> new IllegalStateException(
          "there is no champion to roll back: no model has been promoted yet"));
      if (current.history().isEmpty()) {
        throw new IllegalStateException("v" + current.version() + " is the first champion: there is no previous "
            + "champion to roll back to (promote a version instead: models promote V)");
      }
      long previous = current.history().get(0);
      String id = newDecisionId();
      if (moveChampion(current.version(), previous, current.history().subList(1, current.history().size()), id)) {
        Decision d = manual(id, previous, "rollback", current.version(), previous,
            List.of("rolled back from v" + current.version() + " by " + actor), actor, note);
        record(d);
        LOG.info("champion: v{} -> v{} (rollback by {}: {})", current.version(), previous, actor, note);
        return d;
      }
    }
    throw new ConcurrentModificationException("the champion alias kept moving; roll back again");
  }

  private static Decision manual(String id, long version, String action, Long before, Long after,
      List<String> reasons, String actor, String note) {
    return new Decision(id, Instant.now(), version, action, true, before, after, null, null, null, null, null, null,
        null, null, reasons, actor, note);
  }

  /** Appends a decision to {@code model_decisions}, then rewrites {@code model_status}. */
  public void record(Decision decision) {
    Dataset<Row> row = warehouse.spark().createDataFrame(List.of(decision.toRow()), Decision.SCHEMA);
    warehouse.append(row, Table.MODEL_DECISIONS);
    refreshStatusAfterCommit();
  }

  /** {@link #refreshStatus()} after a registry commit that took effect: a failure to rewrite is logged, not thrown. */
  void refreshStatusAfterCommit() {
    try {
      refreshStatus();
    } catch (RuntimeException e) {
      LOG.warn("model_status not rewritten ({}); the next decision or models list rewrites it", e.toString());
    }
  }

  /** The {@code model_status} table's columns. */
  public static final StructType STATUS_SCHEMA = new StructType()
      .add("model_version", DataTypes.LongType, false)
      .add("status", DataTypes.StringType, false)
      .add("last_action", DataTypes.StringType, true)
      .add("last_decided_at", DataTypes.TimestampType, true)
      .add("updated_at", DataTypes.TimestampType, false)
      .add("derived_from_decision", DataTypes.StringType, true);

  /** Every registered version's status as {@link #status} derives it from the alias and the decision log. */
  public Map<Long, Status> derivedStatus() {
    return byVersion(derivedRows(champion(), decisions()));
  }

  /**
   * One row of {@code model_status}: a version, its status, its latest decision (null before its gate), and the
   * newest decision of the whole log when the row was derived ({@code derived_from_decision}, null before any):
   * a table whose stamp is not the log's newest decision is stale (a job died between its decision and the
   * rewrite), which {@link #statuses()} and a SQL check can both see.
   */
  private record StatusRow(long version, Status status, String lastAction, Instant lastDecidedAt,
      String derivedFrom) {
    Row toRow(Timestamp updatedAt) {
      return RowFactory.create(version, status.name().toLowerCase(java.util.Locale.ROOT), lastAction,
          lastDecidedAt == null ? null : Timestamp.from(lastDecidedAt), updatedAt, derivedFrom);
    }
  }

  /** The id of the log's newest decision (by {@code decided_at}, then id), or null when there is none. */
  static String newestDecision(List<Decision> decisions) {
    return decisions.stream().max(Comparator.comparing(Decision::decidedAt).thenComparing(Decision::id))
        .map(Decision::id).orElse(null);
  }

  private List<StatusRow> derivedRows(Optional<Alias> champion, List<Decision> decisions) {
    if (!warehouse.exists(Table.MODELS)) {
      return List.of();
    }
    List<StatusRow> out = new ArrayList<>();
    String newest = newestDecision(decisions);
    for (Row r : warehouse.read(Table.MODELS).select("version").orderBy("version").collectAsList()) {
      long version = r.getLong(0);
      Optional<Decision> last = decisions.stream().filter(d -> d.modelVersion() == version).reduce((x, y) -> y);
      out.add(new StatusRow(version, status(version, champion, decisions), last.map(Decision::action).orElse(null),
          last.map(Decision::decidedAt).orElse(null), newest));
    }
    return out;
  }

  /**
   * Rewrites {@code model_status} (one row per registered version) from the models table, the champion alias and
   * the decision log, so SQL reads the same status as {@code models list}. A rewrite computed before a concurrent
   * decision could land after it; so after its commit the rows are derived again and written again until the
   * table holds what the log says now. Returns the statuses written.
   */
  public Map<Long, Status> refreshStatus() {
    List<StatusRow> written = null;
    for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      List<StatusRow> now = derivedRows(champion(), decisions());
      if (now.equals(written)) {
        break;
      }
      Timestamp at = Timestamp.from(Instant.now());
      try {
        // The table is derived whole each time: a rewrite may also bring it to this version's columns.
        warehouse.spark().createDataFrame(now.stream().map(r -> r.toRow(at)).toList(), STATUS_SCHEMA).coalesce(1)
            .write().format("delta").mode("overwrite").option("overwriteSchema", true)
            .save(warehouse.path(Table.MODEL_STATUS));
        warehouse.register(Table.MODEL_STATUS);
        written = now;
      } catch (ConcurrentModificationException e) {
        // Two rewrites at once: one of them loses the commit; derive again and retry.
        LOG.info("model_status: concurrent rewrite ({}); deriving again", e.getClass().getSimpleName());
      }
    }
    if (written == null) {
      throw new ConcurrentModificationException("could not rewrite " + warehouse.qualified(Table.MODEL_STATUS)
          + " after " + MAX_ATTEMPTS + " attempts: other decisions kept landing");
    }
    return byVersion(written);
  }

  private static Map<Long, Status> byVersion(List<StatusRow> rows) {
    Map<Long, Status> out = new TreeMap<>();
    rows.forEach(r -> out.put(r.version(), r.status()));
    return out;
  }

  /**
   * The statuses {@code model_status} holds, rewritten first when it is stale: missing (a warehouse from before
   * the table), not listing every registered version (a registration whose retrain has not been judged yet), or
   * derived before the log's newest decision (a job that died between recording a decision and the rewrite).
   */
  public Map<Long, Status> statuses() {
    if (!warehouse.exists(Table.MODEL_STATUS)) {
      return refreshStatus();
    }
    Dataset<Row> table = warehouse.read(Table.MODEL_STATUS);
    if (!List.of(table.columns()).contains("derived_from_decision")) {
      return refreshStatus();
    }
    Map<Long, Status> stored = new TreeMap<>();
    java.util.Set<String> stamps = new java.util.HashSet<>();
    for (Row r : table.select("model_version", "status", "derived_from_decision").collectAsList()) {
      stored.put(r.getLong(0), Status.valueOf(r.getString(1).toUpperCase(java.util.Locale.ROOT)));
      stamps.add(r.getString(2));
    }
    long registered = warehouse.exists(Table.MODELS) ? warehouse.read(Table.MODELS).count() : 0;
    String newest = newestDecision(decisions());
    boolean current = stored.size() == registered
        && (stored.isEmpty() || stamps.size() == 1 && java.util.Objects.equals(stamps.iterator().next(), newest));
    return current ? stored : refreshStatus();
  }

  /** Every decision, oldest first. The log grows by a few rows a day: small enough to read whole. */
  public List<Decision> decisions() {
    if (!warehouse.exists(Table.MODEL_DECISIONS)) {
      return List.of();
    }
    return warehouse.read(Table.MODEL_DECISIONS).orderBy("decided_at").collectAsList().stream()
        .map(Decision::fromRow).collect(Collectors.toList());
  }

  /** The status of one version given the champion alias and the decision log. */
  public static Status status(long version, Optional<Alias> champion, List<Decision> decisions) {
    if (champion.isPresent() && champion.get().version() == version) {
      return Status.CHAMPION;
    }
    boolean wasChampion = decisions.stream().anyMatch(d -> d.promoted() && d.championAfter() != null
        && d.championAfter() == version);
    if (wasChampion) {
      return Status.ARCHIVED;
    }
    // Abandoned only while nothing else was decided: a retrain slower than abandon-after still gets its gate.
    List<Decision> mine = decisions.stream().filter(d -> d.modelVersion() == version).toList();
    if (!mine.isEmpty() && mine.stream().allMatch(d -> ABANDONED.equals(d.action()))) {
      return Status.ABANDONED;
    }
    if (mine.stream().anyMatch(d -> APPROVED.equals(d.action()))) {
      return Status.APPROVED;
    }
    boolean rejected = decisions.stream().anyMatch(d -> d.modelVersion() == version && !d.promoted());
    return rejected ? Status.REJECTED : Status.CHALLENGER;
  }

  /**
   * Records an {@value #ABANDONED} decision for every registered version that has no decision and was registered
   * more than {@code after} before {@code now}: its retrain died between registering and judging it. Returns
   * the versions it abandoned.
   */
  public List<Long> abandonUndecided(ModelStore store, java.time.Duration after, Instant now) {
    List<Decision> decisions = decisions();
    Optional<Alias> alias = champion();
    Long champion = alias.map(Alias::version).orElse(null);
    List<Long> abandoned = new ArrayList<>();
    for (ModelRecord m : store.all()) {
      boolean decided = decisions.stream().anyMatch(d -> d.modelVersion() == m.version());
      if (!decided && m.createdAt().plus(after).isBefore(now)) {
        record(new Decision(newDecisionId(), now, m.version(), ABANDONED, false, champion, champion, null, null,
            null, null, null, null, null, null, List.of("its retrain ended before the gate decided: registered at "
            + m.createdAt() + ", no decision " + after.toMinutes() + " minutes later"), actor(), null));
        abandoned.add(m.version());
        LOG.warn("model v{}: registered at {} and never judged; recorded as {}", m.version(), m.createdAt(),
            ABANDONED);
      }
    }
    return abandoned;
  }

  /** A model chosen for a day, and why it was chosen. */
  public record PointInTime(ModelRecord model, String why) {}

  /** Whether {@code model} may score day {@code date}: all its training and holdout days are before it. */
  public static boolean qualifiesFor(ModelRecord model, LocalDate date) {
    return model.holdoutDate().isBefore(date);
  }

  /**
   * The model that may score day {@code date} without having seen it: the champion if it qualifies, otherwise
   * the most recently promoted or {@value #APPROVED} version that qualifies (a backfill of an old day gets the
   * model that was champion then, or one approved for it, not one trained on that day); empty when none does.
   */
  public Optional<PointInTime> modelFor(LocalDate date, ModelStore store) {
    Optional<Alias> alias = champion();
    if (alias.isEmpty()) {
      return Optional.empty();
    }
    ModelRecord current = store.get(alias.get().version());
    if (qualifiesFor(current, date)) {
      return Optional.of(new PointInTime(current, "the champion v" + current.version() + " qualifies for " + date
          + " (holdout " + current.holdoutDate() + ")"));
    }
    List<Decision> passed = decisions().stream()
        .filter(d -> (d.promoted() && d.championAfter() != null) || APPROVED.equals(d.action()))
        .sorted(Comparator.comparing(Decision::decidedAt).reversed()).toList();
    for (Decision d : passed) {
      ModelRecord m = store.get(d.promoted() ? d.championAfter() : d.modelVersion());
      if (qualifiesFor(m, date)) {
        return Optional.of(new PointInTime(m, "the champion v" + current.version() + " trained on days up to "
            + current.holdoutDate() + ", not before " + date + "; v" + m.version() + " is the most recently promoted "
            + "or approved version that did not (holdout " + m.holdoutDate() + ", " + d.action() + " "
            + d.decidedAt() + ")"));
      }
    }
    return Optional.empty();
  }

  /** Who is acting: the OS user running the job (Airflow's worker user for scheduled runs). */
  public static String actor() {
    return System.getProperty("user.name", "unknown");
  }
}
