package io.nightscore.common.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nightscore.common.config.Settings;
import io.nightscore.common.table.Warehouse;
import io.nightscore.model.quality.BinaryMetrics;
import io.nightscore.model.quality.BinaryMetricsTest;
import io.nightscore.testing.SparkTestBase;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MetricsTableTest extends SparkTestBase {

  @Test
  void writesReadsAndReplacesByKey() {
    Settings settings = Settings.defaults(Map.of("nightscore.warehouse", scratch.resolve("wh").toString()));
    Warehouse warehouse = new Warehouse(spark, settings);
    BinaryMetrics m = BinaryMetrics.compute(BinaryMetricsTest.scored(
        new double[][] {{1, 0.8}, {1, 0.4}, {0, 0.6}, {0, 0.2}, {0, 0.1}}), "y", "p");
    LocalDate d = LocalDate.of(2026, 11, 3);
    MetricsTable.write(warehouse, List.of(new MetricsTable.Entry(3, "holdout", d, "model", m),
        new MetricsTable.Entry(3, "scored", d.plusDays(1), "model", m)));
    MetricsTable.write(warehouse, List.of(new MetricsTable.Entry(3, "holdout", d, "model", m)));

    List<MetricsTable.Entry> back = MetricsTable.read(warehouse, 3);
    assertEquals(2, back.size(), "rewriting a key replaces its row instead of adding one");
    BinaryMetrics r = back.get(0).metrics();
    assertEquals("holdout", back.get(0).dataset());
    assertEquals(m.auc(), r.auc(), 1e-12);
    assertEquals(m.logLoss(), r.logLoss(), 1e-12);
    assertEquals(m.reliability(), r.reliability(), "reliability table round-trips");
    assertEquals(m.roc(), r.roc());
    assertEquals(m.ece(), r.ece(), 1e-12);
    assertThat(MetricsTable.read(warehouse, 4)).isEmpty();
    assertEquals(2L, spark.sql("SELECT count(*) FROM " + settings.database() + ".model_metrics "
        + "WHERE model_version = 3").head().getLong(0), "queryable with SQL");
  }

  @Test
  void refusesNamesThatCouldReachSql() {
    BinaryMetrics m = BinaryMetrics.compute(BinaryMetricsTest.scored(new double[][] {{1, 0.5}}), "y", "p");
    assertThatThrownBy(() -> new MetricsTable.Entry(1, "x' OR '1'='1", LocalDate.of(2026, 1, 1), "model", m))
        .hasMessageContaining("dataset must match");
  }
}
