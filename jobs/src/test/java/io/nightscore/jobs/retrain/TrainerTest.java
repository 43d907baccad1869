package io.nightscore.jobs.retrain;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.rand;
import static org.apache.spark.sql.functions.when;
import static org.assertj.core.api.Assertions.assertThat;

import io.nightscore.common.EventSchema;
import io.nightscore.common.Features;
import io.nightscore.common.Settings;
import io.nightscore.common.SparkTestBase;
import java.util.List;
import java.util.Map;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassifier;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/** Trainer hands XGBoost its input planned once; the rows, and so the model, are those of the plain query. */
class TrainerTest extends SparkTestBase {

  /** Rows shaped as Features.assemble leaves them: id, dt, label and the feature array, from 3 partitions. */
  static Dataset<Row> rows(long seed) {
    return spark.range(0, 6_000, 1, 3).select(
        col("id").cast("string").as("event_id"),
        lit(java.sql.Date.valueOf("2026-11-02")).as("dt"),
        rand(seed).as("a"), rand(seed + 1).as("b"))
        .withColumn("converted", when(col("a").plus(col("b").multiply(0.5)).gt(rand(seed + 2).multiply(1.5)), 1)
            .otherwise(0))
        .withColumn(Features.COLUMN, array(col("a").cast("float"), when(col("b").gt(0.9), lit(null))
            .otherwise(col("b")).cast("float")));
  }

  @Test
  void plannedOnceTrainsTheModelOfThePlainQuery() throws Exception {
    EventSchema schema = new EventSchema("event_id", "event_time", "converted", List.of("a", "b"), List.of());
    Settings settings = Settings.defaults(Map.of("nightscore.xgboost.num-round", "8",
        "nightscore.xgboost.early-stopping-rounds", "3", "nightscore.xgboost.num-workers", "2"));
    Dataset<Row> train = rows(1);
    Dataset<Row> holdout = rows(2);

    XGBoostClassifier plain = Trainer.classifier(schema, "target", settings.xgboost(), true);
    plain.setEvalDataset(Trainer.deterministicLayout(holdout, 2, "event_id"));
    byte[] expected = plain.fit(Trainer.deterministicLayout(train, 2, "event_id")).nativeBooster().toByteArray("ubj");

    XGBoostClassifier once = Trainer.classifier(schema, "target", settings.xgboost(), true);
    byte[] got = Trainer.fit(once, train, holdout, "event_id").nativeBooster().toByteArray("ubj");
    assertThat(got).as("the same booster, byte for byte").isEqualTo(expected);

    assertThat(Trainer.input(train, 2, "event_id", "converted").columns()).as("what the layout shuffles")
        .containsExactly("converted", Features.COLUMN);
    Dataset<Row> planned = Trainer.plannedOnce(Trainer.input(train, 2, "event_id", "converted"));
    assertThat(planned.rdd().getNumPartitions()).as("one partition per worker").isEqualTo(2);
    assertThat(planned.collectAsList()).as("the rows of the laid-out query, each once")
        .containsExactlyInAnyOrderElementsOf(Trainer.input(train, 2, "event_id", "converted").collectAsList());
  }
}
