package io.nightscore.testing;

import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;

/** The one local SparkSession a test class uses: 2 threads, 2 shuffle partitions, no UI, Delta enabled. */
public final class TestSpark {
  private TestSpark() {}

  public static SparkSession start(Path scratch) {
    return SparkSession.builder()
        .master("local[2]")
        .appName("nightscore-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", scratch.resolve("spark-warehouse").toString())
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.databricks.delta.snapshotPartitions", "2")
        .config("spark.sql.sources.parallelPartitionDiscovery.parallelism", "4")
        .getOrCreate();
  }

  public static void stop(SparkSession spark) {
    if (spark != null) {
      spark.stop();
    }
    SparkSession.clearActiveSession();
    SparkSession.clearDefaultSession();
  }
}
