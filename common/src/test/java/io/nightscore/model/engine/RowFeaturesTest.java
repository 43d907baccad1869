package io.nightscore.model.engine;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;
import static org.assertj.core.api.Assertions.assertThat;

import io.nightscore.testing.SparkTestBase;
import java.util.List;
import org.apache.spark.sql.execution.FileSourceScanExec;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.vectorized.WritableColumnVector;
import org.junit.jupiter.api.Test;

class RowFeaturesTest extends SparkTestBase {

  /**
   * The Parquet reader gives every batch a new dictionary wrapper; the dictionary RowFeatures keys its memo on
   * is the row group's: the same object for all batches of a row group, another for the next row group.
   */
  @Test
  void dictionaryOfLastsARowGroup() {
    String path = scratch.resolve("dictionaries").toString();
    spark.range(20_000).select(concat(lit("site-"), col("id").mod(300).cast("string")).as("site"))
        .repartition(1).write().mode("overwrite").option("parquet.block.size", 16_384).parquet(path);
    String size = spark.conf().get("spark.sql.parquet.columnarReaderBatchSize");
    spark.conf().set("spark.sql.parquet.columnarReaderBatchSize", "500");
    try {
      SparkPlan plan = spark.read().parquet(path).queryExecution().executedPlan();
      FileSourceScanExec scan = (FileSourceScanExec) plan.collectLeaves().head();
      // Per task: dictionary-encoded batches, those whose dictionary is not the previous one's, those whose
      // dictionary is unknown. (The reader decodes a batch that starts inside a page at once: no dictionary.)
      List<int[]> counts = scan.executeColumnar().toJavaRDD().mapPartitions(batches -> {
        int[] c = new int[3];
        Object previous = null;
        while (batches.hasNext()) {
          WritableColumnVector v = (WritableColumnVector) batches.next().column(0);
          if (!v.hasDictionary()) {
            continue;
          }
          Object d = RowFeatures.dictionaryOf(v);
          c[0]++;
          c[1] += d != previous ? 1 : 0;
          c[2] += d == null ? 1 : 0;
          previous = d;
        }
        return List.of(c).iterator();
      }).collect();
      int batches = counts.stream().mapToInt(c -> c[0]).sum();
      int changes = counts.stream().mapToInt(c -> c[1]).sum();
      assertThat(batches).as("dictionary-encoded batches of at most 500 of the 20,000 rows").isGreaterThan(20);
      assertThat(counts.stream().mapToInt(c -> c[2]).sum()).as("batches whose dictionary is unknown").isZero();
      assertThat(changes).as("several row groups, each with its dictionary, each over several batches")
          .isGreaterThan(1).isLessThan(batches);
    } finally {
      spark.conf().set("spark.sql.parquet.columnarReaderBatchSize", size);
    }
  }

  /** Spark's two fields are found; a field that is not there gives null (and a warning), not an exception. */
  @Test
  void sparkFieldsAreReadable() {
    assertThat(RowFeatures.field(WritableColumnVector.class, "dictionary")).isNotNull();
    assertThat(RowFeatures.field(org.apache.spark.sql.execution.datasources.parquet.ParquetDictionary.class,
        "dictionary")).isNotNull();
    assertThat(RowFeatures.field(WritableColumnVector.class, "movedInANewerSpark")).isNull();
  }
}
