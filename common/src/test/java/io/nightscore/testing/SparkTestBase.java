package io.nightscore.testing;

import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** One local SparkSession per test class (see {@link TestSpark}), and a scratch folder for its tables. */
public abstract class SparkTestBase {
  @TempDir protected static Path scratch;
  protected static SparkSession spark;

  @BeforeAll
  static void startSpark() {
    spark = TestSpark.start(scratch);
  }

  @AfterAll
  static void stopSpark() {
    TestSpark.stop(spark);
    spark = null;
  }
}
