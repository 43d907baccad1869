package io.nightscore.tools.gpu;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.udf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nightscore.testing.SparkTestBase;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.Test;

/** Reading RAPIDS' explanation, and the allow-list judging it, on text and on real plans (RAPIDS jar, no GPU). */
class GpuPlacementIT extends SparkTestBase {

  static final String SAMPLE = String.join("\n",
      "*Exec <ProjectExec> will run on GPU",
      "  *Expression <Alias> (x#1 + 1.0) AS y#2 will run on GPU",
      "  !Exec <ProjectExec> cannot run on GPU because not all expressions can be replaced",
      "    !Expression <ScalaUDF> UDF(x#1) cannot run on GPU because neither UDF implemented by class X provides a "
          + "GPU implementation",
      "    !Exec <FileSourceScanExec> cannot run on GPU because unsupported file format: "
          + "org.apache.spark.sql.delta.DeltaParquetFileFormat",
      "      !NOT_FOUND <MapPartitionsExec> cannot run on GPU because no GPU enabled version of operator class "
          + "org.apache.spark.sql.execution.MapPartitionsExec could be found",
      "        ! <DeserializeToObjectExec> cannot run on GPU because not all expressions can be replaced; GPU does not "
          + "currently support the operator class org.apache.spark.sql.execution.DeserializeToObjectExec");

  @Test
  void parsesOperatorsWithTheExpressionsToBlame() {
    List<GpuPlacement.Operator> ops = GpuPlacement.parse(SAMPLE);
    assertThat(ops).extracting(GpuPlacement.Operator::name)
        .containsExactly("ProjectExec", "ProjectExec", "FileSourceScanExec", "MapPartitionsExec",
            "DeserializeToObjectExec");
    assertThat(ops).extracting(GpuPlacement.Operator::onGpu).containsExactly(true, false, false, false, false);
    assertThat(ops.get(1).reason()).startsWith("not all expressions can be replaced [ScalaUDF: neither UDF");
    // Delta scans are allowed; a UDF in a projection and a typed (CPU-only) map over rows are not.
    assertThat(GpuPlacement.unexpected(ops)).extracting(GpuPlacement.Operator::name)
        .containsExactly("ProjectExec", "MapPartitionsExec", "DeserializeToObjectExec");
    assertThat(GpuPlacement.allowance(ops.get(2)).orElseThrow().why()).contains("Delta");
  }

  static List<GpuPlacement.Operator> explain(Dataset<Row> df) throws Exception {
    return GpuPlacement.parse(String.valueOf(GpuCheckJob.explainApi().invoke(null, df, "ALL")));
  }

  @Test
  void aUdfIsCaughtWhereBuiltInExpressionsPass() throws Exception {
    String path = scratch.resolve("plain").toString();
    spark.range(100).withColumn("x", col("id").cast("double")).write().parquet(path);
    Dataset<Row> plain = spark.read().parquet(path).where(col("x").gt(3)).groupBy((col("id").mod(7)).as("k"))
        .agg(org.apache.spark.sql.functions.avg(col("x").multiply(2)));
    List<GpuPlacement.Operator> ops = explain(plain);
    assertThat(ops).hasSizeGreaterThan(3);
    assertEquals(List.of(), GpuPlacement.unexpected(ops), "built-in expressions over Parquet all run on the GPU");

    Dataset<Row> withUdf = spark.read().parquet(path).withColumn("y",
        udf((UDF1<Double, Double>) v -> v + 1, DataTypes.DoubleType).apply(col("x")));
    assertThat(GpuPlacement.unexpected(explain(withUdf))).extracting(GpuPlacement.Operator::reason)
        .anySatisfy(r -> assertThat(r).contains("UDF"));
  }
}
