package io.nightscore.model.train;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nightscore.common.config.Settings;
import io.nightscore.testing.SparkTestBase;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

class SamplingTest extends SparkTestBase {

  static Dataset<Row> events(int partitions) {
    return spark.range(0, 100_000, 1, partitions).select(
        col("id").cast("string").as("event_id"),
        lit(java.sql.Date.valueOf("2026-11-02")).as("dt"),
        when(col("id").mod(50).equalTo(0), lit(1)).otherwise(lit(0)).as("converted"));
  }

  @Test
  void keepsEveryPositiveAndTheRateOfNegativesWhateverThePartitioning() {
    var schema = Settings.defaults(Map.of()).schema();
    Dataset<Row> a = Sampling.negatives(events(2), schema, 0.1, 7);
    Dataset<Row> b = Sampling.negatives(events(7), schema, 0.1, 7);
    assertEquals(2_000, a.where("converted = 1").count(), "every positive is kept");
    long negatives = a.where("converted = 0").count();
    assertThat(negatives).as("about 10% of 98,000 negatives").isBetween(9_300L, 10_300L);
    assertEquals(0, a.except(b).count() + b.except(a).count(), "same rows whatever the partitioning");
    assertThat(Sampling.negatives(events(2), schema, 0.1, 8).except(a).count()).as("the seed matters")
        .isGreaterThan(1_000L);
    assertEquals(100_000, Sampling.negatives(events(2), schema, 1.0, 7).count(), "rate 1 keeps everything");
  }
}
