package io.nightscore.common.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nightscore.common.config.Settings;
import io.nightscore.common.table.Table;
import io.nightscore.common.table.Warehouse;
import io.nightscore.model.quality.Calibration;
import io.nightscore.testing.SparkTestBase;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class ModelRegistryTest extends SparkTestBase {

  private ModelRegistry registry(String name) {
    // One database per warehouse: a catalog name points at one table location.
    Settings settings = Settings.defaults(Map.of("nightscore.warehouse", scratch.resolve(name).toString(),
        "nightscore.database", "registry_" + name));
    return new ModelRegistry(new Warehouse(spark, settings));
  }

  /**
   * Two writers that both read champion {@code expected} move the alias at the same moment to their own
   * version; returns what each was told.
   */
  private static List<Boolean> race(ModelRegistry registry, Long expected, long a, long b) throws Exception {
    CyclicBarrier start = new CyclicBarrier(2);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (long v : new long[] {a, b}) {
        results.add(pool.submit(() -> {
          start.await();
          return registry.moveChampion(expected, v, expected == null ? List.of() : List.of(expected),
              ModelRegistry.newDecisionId());
        }));
      }
      List<Boolean> out = new ArrayList<>();
      for (Future<Boolean> f : results) {
        out.add(f.get());
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void racingWritersNeverBothMoveTheChampion() throws Exception {
    ModelRegistry registry = registry("race");
    List<Boolean> first = race(registry, null, 1, 2);
    assertEquals(1, first.stream().filter(b -> b).count(), "creating the alias: exactly one writer wins " + first);
    long winner = first.get(0) ? 1 : 2;
    assertEquals(winner, registry.champion().orElseThrow().version());

    long expected = winner;
    for (int round = 0; round < 3; round++) {
      long a = 10 + 2 * round;
      long b = a + 1;
      List<Boolean> told = race(registry, expected, a, b);
      assertEquals(1, told.stream().filter(x -> x).count(), "round " + round + ": exactly one move commits " + told);
      long won = told.get(0) ? a : b;
      ModelRegistry.Alias now = registry.champion().orElseThrow();
      assertEquals(won, now.version(), "the alias points at the writer that was told it won");
      assertEquals(expected, now.history().get(0), "the replaced champion heads the history");
      expected = won;
    }
    assertThat(registry.moveChampion(1L, 99, List.of(), ModelRegistry.newDecisionId()))
        .as("a writer holding a stale champion is refused").isFalse();
    assertEquals(expected, registry.champion().orElseThrow().version());
  }

  @Test
  void promoteAndRollbackWalkTheHistoryAndAreRecorded() {
    ModelRegistry registry = registry("rollback");
    assertThatThrownBy(() -> registry.rollback("ops", "nothing yet")).hasMessageContaining("no champion");
    registry.promote(1, "ops", "first");
    assertThatThrownBy(() -> registry.rollback("ops", "x")).hasMessageContaining("first champion");
    registry.promote(2, "ops", "second");
    registry.promote(3, "ops", "third");
    assertThatThrownBy(() -> registry.promote(3, "ops", "again")).hasMessageContaining("already the champion");

    ModelRegistry.Decision back = registry.rollback("alice", "v3 over-scores mobile traffic");
    assertEquals(2, back.championAfter());
    assertEquals(3, back.championBefore());
    assertEquals(2, registry.champion().orElseThrow().version());
    registry.rollback("alice", "v2 too");
    assertEquals(1, registry.champion().orElseThrow().version(), "a second rollback walks further back");

    List<ModelRegistry.Decision> log = registry.decisions();
    assertEquals(List.of("promote", "promote", "promote", "rollback", "rollback"),
        log.stream().map(ModelRegistry.Decision::action).toList());
    assertEquals("alice", log.get(3).actor());
    assertEquals("v3 over-scores mobile traffic", log.get(3).note());

    Optional<ModelRegistry.Alias> champion = registry.champion();
    assertEquals(ModelRegistry.Status.CHAMPION, ModelRegistry.status(1, champion, log));
    assertEquals(ModelRegistry.Status.ARCHIVED, ModelRegistry.status(3, champion, log));
    assertEquals(ModelRegistry.Status.CHALLENGER, ModelRegistry.status(4, champion, log));
    assertEquals(1L, spark.sql("SELECT version FROM registry_rollback.model_aliases WHERE alias = 'champion'")
        .head().getLong(0), "the alias is queryable with SQL");
  }

  private static ModelRecord record(long version, String artifactPath) {
    java.time.LocalDate d = java.time.LocalDate.of(2026, 11, 1);
    return new ModelRecord(version, java.time.Instant.now(), d, d, d, 0, List.of("x"), List.of("q"), List.of(),
        Map.of(), 1, 0, 1, 1, 0, 0.5, 0.1, 0.01, 0.01, artifactPath, "test", "test", "{}", "default",
        new Calibration("none", 1.0, new double[0]), List.of(), List.of(), Map.of(), artifactPath + "/report",
        "unknown", "c", "s", Map.of("booster.ubj", "0"));
  }

  @Test
  void aVersionNeverJudgedIsRecordedAsAbandonedOnceOldEnough() {
    Settings settings = Settings.defaults(Map.of("nightscore.warehouse", scratch.resolve("abandon").toString(),
        "nightscore.database", "registry_abandon"));
    Warehouse warehouse = new Warehouse(spark, settings);
    ModelStore store = new ModelStore(warehouse);
    ModelRegistry registry = new ModelRegistry(warehouse);
    store.register(v -> record(v, "file:/artifacts/judged"));
    store.register(v -> record(v, "file:/artifacts/died"));
    assertEquals(List.of("1 challenger", "2 challenger"), statusBySql("registry_abandon"),
        "registered, not judged yet: model_status lists both");
    registry.moveChampion(null, 1, List.of(), ModelRegistry.newDecisionId());
    registry.record(new ModelRegistry.Decision(ModelRegistry.newDecisionId(), java.time.Instant.now(), 1, "gate", true,
        null, 1L, null, null, null, null, null, null, null, null, List.of(), "test", null));
    java.time.Instant now = java.time.Instant.now();

    assertThat(registry.abandonUndecided(store, java.time.Duration.ofHours(2), now)).as("too recent: may be running")
        .isEmpty();
    assertThat(registry.abandonUndecided(store, java.time.Duration.ofHours(2), now.plus(java.time.Duration.ofHours(3))))
        .containsExactly(2L);
    assertThat(registry.abandonUndecided(store, java.time.Duration.ofHours(2), now.plus(java.time.Duration.ofHours(4))))
        .as("recorded once").isEmpty();
    List<ModelRegistry.Decision> decisions = registry.decisions();
    assertEquals(ModelRegistry.Status.ABANDONED, ModelRegistry.status(2, registry.champion(), decisions));
    assertEquals(ModelRegistry.Status.CHAMPION, ModelRegistry.status(1, registry.champion(), decisions));
    assertEquals(List.of("1 champion", "2 abandoned"), statusBySql("registry_abandon"),
        "SQL reads the status the registry derives");
  }

  private static List<String> statusBySql(String database) {
    return spark.sql("SELECT model_version, status FROM " + database + ".model_status ORDER BY model_version")
        .collectAsList().stream().map(r -> r.getLong(0) + " " + r.getString(1)).toList();
  }

  @Test
  void decisionsRecordedAtOnceLeaveModelStatusAsTheLogSays() throws Exception {
    Settings settings = Settings.defaults(Map.of("nightscore.warehouse", scratch.resolve("status").toString(),
        "nightscore.database", "registry_status"));
    Warehouse warehouse = new Warehouse(spark, settings);
    ModelStore store = new ModelStore(warehouse);
    ModelRegistry registry = new ModelRegistry(warehouse);
    for (int i = 0; i < 3; i++) {
      store.register(v -> record(v, "file:/artifacts/s" + v));
    }
    registry.promote(1, "ops", "first");
    // Two gates rejecting v2 and v3 at the same moment: both rewrite model_status; the last word is the log's.
    CyclicBarrier start = new CyclicBarrier(2);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (long v : new long[] {2, 3}) {
        done.add(pool.submit(() -> {
          start.await();
          registry.record(new ModelRegistry.Decision(ModelRegistry.newDecisionId(), java.time.Instant.now(), v,
              "gate", false, 1L, 1L, null, null, null, null, null, null, null, null, List.of("FAIL: test"), "test",
              null));
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(List.of("1 champion", "2 rejected", "3 rejected"), statusBySql("registry_status"));
    assertEquals(registry.derivedStatus(), registry.statuses());

    // A job that dies between committing a decision and rewriting model_status leaves the table stale: its stamp
    // is not the log's newest decision. SQL can see that; the next read through the registry rewrites it.
    ModelRegistry.Decision approval = new ModelRegistry.Decision(ModelRegistry.newDecisionId(),
        java.time.Instant.now(), 2, ModelRegistry.APPROVED, false, 1L, 1L, null, null, null, null, null, null, null,
        null, List.of(), "ops", "died before the rewrite");
    warehouse.append(spark.createDataFrame(List.of(approval.toRow()), ModelRegistry.Decision.SCHEMA),
        Table.MODEL_DECISIONS);
    String stale = "SELECT count(*) FROM registry_status.model_status WHERE derived_from_decision IS DISTINCT FROM "
        + "(SELECT max_by(decision_id, struct(decided_at, decision_id)) FROM registry_status.model_decisions)";
    assertEquals(3L, spark.sql(stale).head().getLong(0), "every row derived before the newest decision");
    assertEquals(List.of("1 champion", "2 rejected", "3 rejected"), statusBySql("registry_status"));
    assertEquals(ModelRegistry.Status.APPROVED, registry.statuses().get(2L));
    assertEquals(List.of("1 champion", "2 approved", "3 rejected"), statusBySql("registry_status"));
    assertEquals(0L, spark.sql(stale).head().getLong(0));
  }

  @Test
  void artifactsOfRunsThatNeverRegisteredAreRemovedOnceOlderThanTheRetention() throws Exception {
    Settings settings = Settings.defaults(Map.of("nightscore.warehouse", scratch.resolve("orphans").toString(),
        "nightscore.database", "registry_orphans"));
    Warehouse warehouse = new Warehouse(spark, settings);
    ModelStore store = new ModelStore(warehouse);
    String registered = warehouse.modelPath(java.util.UUID.randomUUID().toString());
    String died = warehouse.modelPath(java.util.UUID.randomUUID().toString());
    for (String dir : List.of(registered, died)) {
      java.nio.file.Path booster = java.nio.file.Path.of(java.net.URI.create(dir)).resolve("spark-model/booster");
      java.nio.file.Files.createDirectories(booster.getParent());
      java.nio.file.Files.writeString(booster, "x");
    }
    store.register(v -> record(v, registered));
    java.time.Instant now = java.time.Instant.now();
    java.time.Duration week = java.time.Duration.ofHours(168);

    assertThat(store.removeUnregistered(week, now)).as("too recent: its retrain may still be running").isEmpty();
    assertThat(store.removeUnregistered(week, now.plus(java.time.Duration.ofHours(169))))
        .containsExactly(died);
    assertThat(java.nio.file.Path.of(java.net.URI.create(died))).doesNotExist();
    assertThat(java.nio.file.Path.of(java.net.URI.create(registered)).resolve("spark-model/booster")).exists();
  }

  @Test
  void concurrentRegistrationsGetDistinctVersions() throws Exception {
    Settings settings = Settings.defaults(Map.of("nightscore.warehouse", scratch.resolve("versions").toString(),
        "nightscore.database", "registry_versions"));
    ModelStore store = new ModelStore(new Warehouse(spark, settings));
    CyclicBarrier start = new CyclicBarrier(2);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<ModelRecord>> runs = new ArrayList<>();
      for (int round = 0; round < 2; round++) {
        for (String run : new String[] {"a" + round, "b" + round}) {
          runs.add(pool.submit(() -> {
            start.await();
            return store.register(v -> record(v, "file:/artifacts/" + run));
          }));
        }
        for (Future<ModelRecord> f : runs.subList(runs.size() - 2, runs.size())) {
          f.get();
        }
      }
      List<Long> versions = runs.stream().map(f -> {
        try {
          return f.get().version();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }).sorted().toList();
      assertEquals(List.of(1L, 2L, 3L, 4L), versions, "four registrations, four distinct versions");
      assertEquals(4, store.all().stream().map(ModelRecord::artifactPath).distinct().count(),
          "each version points at its own run's artifacts");
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void statusOfAGateRejection() {
    ModelRegistry.Decision rejected = new ModelRegistry.Decision("id", java.time.Instant.now(), 5, "gate", false, 4L,
        4L, null, 0.5, 0.1, 1.0, 1.0, 0.7, 0.05, 1.0, List.of("auc"), "ops", null);
    assertEquals(ModelRegistry.Status.REJECTED, ModelRegistry.status(5, Optional.empty(), List.of(rejected)));
  }
}
