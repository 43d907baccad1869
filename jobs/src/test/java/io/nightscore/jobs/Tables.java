package io.nightscore.jobs;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** What the integration tests read back from a warehouse's Delta tables, by path (no catalog needed). */
final class Tables {
  private Tables() {}

  static Dataset<Row> table(SparkSession spark, String warehouse, String table) {
    return spark.read().format("delta").load(warehouse + "/tables/" + table);
  }

  /** The day's events (by id) and quarantine (reason and raw line), sorted: what an ingest wrote. */
  static List<String> ingested(SparkSession spark, String warehouse, String day) {
    List<String> out = new ArrayList<>();
    table(spark, warehouse, "events").where("dt = DATE'" + day + "'").selectExpr("concat('event ', event_id)")
        .collectAsList().forEach(r -> out.add(r.getString(0)));
    table(spark, warehouse, "quarantine").where("dt = DATE'" + day + "'")
        .selectExpr("concat_ws(' ', 'quarantine', reason, raw)").collectAsList().forEach(r -> out.add(r.getString(0)));
    out.sort(null);
    return out;
  }

  /** The day's scores by event id; fails on an event scored twice. */
  static Map<String, Double> scores(SparkSession spark, String warehouse, String day) {
    Map<String, Double> out = new HashMap<>();
    for (Row r : table(spark, warehouse, "scores").where("dt = DATE'" + day + "'").select("event_id", "score")
        .collectAsList()) {
      if (out.put(r.getString(0), r.getDouble(1)) != null) {
        throw new AssertionError("event " + r.getString(0) + " of " + day + " scored twice");
      }
    }
    return out;
  }

  static String boosterSha(SparkSession spark, String warehouse, long version) {
    return table(spark, warehouse, "models").where("version = " + version)
        .selectExpr("artifact_sha256['booster.ubj']").head().getString(0);
  }

  static long champion(SparkSession spark, String warehouse) {
    return table(spark, warehouse, "model_aliases").where("alias = 'champion'").selectExpr("version").head()
        .getLong(0);
  }

  static long models(SparkSession spark, String warehouse) {
    return table(spark, warehouse, "models").count();
  }
}
