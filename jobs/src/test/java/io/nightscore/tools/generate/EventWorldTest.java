package io.nightscore.tools.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nightscore.common.config.Settings;
import io.nightscore.testing.SparkTestBase;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

class EventWorldTest extends SparkTestBase {

  @Test
  void theDefaultSchemaIsTheGenerators() {
    Settings s = Settings.defaults(Map.of());
    assertEquals(EventWorld.numericNames(), s.schema().numeric());
    assertEquals(EventWorld.categoricalNames(), s.schema().categorical());
    assertEquals(56, EventWorld.numericNames().size() + EventWorld.categoricalNames().size());
  }

  @Test
  void sameSeedSameEventsWhateverThePartitioning() {
    GenerateJob.Result a = GenerateJob.run(spark, new GenerateJob.Options(LocalDate.of(2026, 11, 1), 2, 3000, 5,
        scratch.resolve("a").toString(), "parquet", 0.012, 0.01));
    spark.conf().set("spark.default.parallelism", "3");
    try {
      GenerateJob.run(spark, new GenerateJob.Options(LocalDate.of(2026, 11, 1), 2, 3000, 5,
          scratch.resolve("b").toString(), "parquet", 0.012, 0.01));
    } finally {
      spark.conf().set("spark.default.parallelism", "2");
    }
    Dataset<Row> ea = spark.read().parquet(a.eventsPath());
    Dataset<Row> eb = spark.read().parquet(scratch.resolve("b").resolve("events").toString());
    assertEquals(6000, ea.count());
    assertEquals(0, ea.exceptAll(eb).count(), "identical raw events for the same seed");
    Dataset<Row> other = spark.read().parquet(GenerateJob.run(spark, new GenerateJob.Options(
        LocalDate.of(2026, 11, 1), 2, 3000, 6, scratch.resolve("c").toString(), "parquet", 0.012, 0.01))
        .eventsPath());
    assertThat(ea.exceptAll(other).count()).as("another seed gives other events").isGreaterThan(5000);
  }

  @Test
  void trueProbabilitiesHitTheBaseRateAndLabelsFollowThem() {
    GenerateJob.Result r = GenerateJob.run(spark, new GenerateJob.Options(LocalDate.of(2026, 11, 2), 1, 20000, 3,
        scratch.resolve("rate").toString(), "csv", 0.03, 0.0));
    Row truth = spark.read().parquet(r.truthPath()).selectExpr("avg(p_true)", "min(p_true)", "max(p_true)")
        .head();
    assertThat(truth.getDouble(0)).as("mean true probability ~ --base-rate").isBetween(0.027, 0.033);
    assertThat(truth.getDouble(1)).isGreaterThan(0.0);
    assertThat(truth.getDouble(2)).isLessThan(1.0);
    Dataset<Row> raw = spark.read().option("header", "true").csv(r.eventsPath());
    double rate = raw.selectExpr("avg(cast(converted as int))").head().getDouble(0);
    assertThat(rate).as("observed rate follows the true probabilities").isBetween(0.026, 0.034);
    List<String> cols = List.of(raw.columns());
    assertThat(cols).contains("event_id", "event_time", "converted", "publisher", "user_ctr_7d")
        .doesNotContain("p_true");
    long publishers = raw.selectExpr("count(DISTINCT publisher)").head().getLong(0);
    assertThat(publishers).as("high-cardinality categorical").isGreaterThan(2000);
    double missing = raw.selectExpr("avg(CASE WHEN app_bundle IS NULL THEN 1D ELSE 0D END)").head().getDouble(0);
    assertThat(missing).as("missing values exist").isBetween(0.3, 0.5);
  }

  @Test
  void theCriteoWorldWritesItsOwnContractAtItsBaseRate() {
    GenerateJob.Result r = GenerateJob.run(spark, new GenerateJob.Options(LocalDate.of(2026, 11, 2), 1, 20000, 5,
        scratch.resolve("criteo").toString(), "csv", 0.03, 0.01, "criteo"));
    Dataset<Row> raw = spark.read().option("header", "true").csv(r.eventsPath());
    CriteoWorld world = new CriteoWorld(5);
    List<String> expected = new java.util.ArrayList<>(List.of("event_id", "event_time", "converted"));
    expected.addAll(world.numeric());
    expected.addAll(world.categorical());
    expected.add("dt");
    assertEquals(expected, List.of(raw.columns()), "13 counts and 26 hashed categoricals (and the dt partition)");
    assertEquals(world.categorical(), io.nightscore.common.config.Settings.from(io.nightscore.common.config.ConfigLoader.load(
        new java.io.File("../conf/criteo.conf"), java.util.Map.of())).schema().categorical(),
        "conf/criteo.conf names the world's columns");
    double truth = spark.read().parquet(r.truthPath()).selectExpr("avg(p_true)").head().getDouble(0);
    assertThat(truth).as("mean true probability ~ --base-rate").isBetween(0.027, 0.033);
    assertThat(raw.selectExpr("min(length(C3)) = 8 AND max(length(C3)) = 8").head().getBoolean(0))
        .as("categoricals are 8-digit hashes").isTrue();
    assertThat(raw.selectExpr("count(DISTINCT C3)").head().getLong(0)).as("high cardinality").isGreaterThan(5000);
  }
}
