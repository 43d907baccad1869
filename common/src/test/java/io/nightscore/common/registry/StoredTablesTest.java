package io.nightscore.common.registry;

import static org.assertj.core.api.Assertions.assertThat;

import io.nightscore.testing.SparkTestBase;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * The registry tables of a warehouse written by the code before the registry's rows were declared once
 * (src/test/resources/warehouse-written-before-the-layout: a demo night, its model promoted by hand): today's
 * schemas equal what is on disk, column for column, and every stored row reads and writes back unchanged.
 */
class StoredTablesTest extends SparkTestBase {
  private static Dataset<Row> table(String name) throws URISyntaxException {
    Path dir = Path.of(StoredTablesTest.class.getResource("/warehouse-written-before-the-layout/tables/" + name)
        .toURI());
    return spark.read().format("delta").load(dir.toString());
  }

  /** The schema Delta stored when the table was created, from its first commit. */
  private static StructType loggedSchema(Path table) throws Exception {
    Path log = table.resolve("_delta_log/00000000000000000000.json");
    for (String line : java.nio.file.Files.readAllLines(log)) {
      com.fasterxml.jackson.databind.JsonNode node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(line);
      if (node.has("metaData")) {
        return (StructType) org.apache.spark.sql.types.DataType.fromJson(node.get("metaData").get("schemaString")
            .asText());
      }
    }
    throw new AssertionError("no metaData in " + log);
  }

  /**
   * What is on disk for a table today's code writes with {@code declared}, against the stored table {@code name}:
   * the same columns, in the same order, with the same types and nullability as Delta records them.
   */
  private static void sameColumns(StructType declared, String name) throws Exception {
    Path today = scratch.resolve("today-" + name);
    spark.createDataFrame(List.of(), declared).write().format("delta").save(today.toString());
    Path old = Path.of(StoredTablesTest.class.getResource("/warehouse-written-before-the-layout/tables/" + name)
        .toURI());
    assertThat(loggedSchema(today).json()).isEqualTo(loggedSchema(old).json());
  }

  @Test
  void modelsRowsReadAndWriteBackUnchanged() throws Exception {
    Dataset<Row> models = table("models");
    sameColumns(ModelRecord.SCHEMA, "models");
    List<Row> rows = models.collectAsList();
    assertThat(rows).hasSize(1);
    ModelRecord record = ModelRecord.fromRow(rows.get(0));
    assertThat(record.version()).isEqualTo(1);
    assertThat(record.calibration().method()).isEqualTo("platt");
    assertThat(record.features()).isNotEmpty();
    assertThat(record.artifactSha256()).isNotEmpty();
    assertThat(record.toRow()).isEqualTo(Row.fromSeq(rows.get(0).toSeq()));
  }

  @Test
  void decisionRowsReadAndWriteBackUnchanged() throws Exception {
    Dataset<Row> decisions = table("model_decisions").orderBy("decided_at");
    sameColumns(ModelRegistry.Decision.SCHEMA, "model_decisions");
    List<Row> rows = decisions.collectAsList();
    assertThat(rows).extracting(r -> ModelRegistry.Decision.fromRow(r).action()).containsExactly("gate", "promote");
    ModelRegistry.Decision promote = ModelRegistry.Decision.fromRow(rows.get(1));
    assertThat(promote.championBefore()).isNull();
    assertThat(promote.championAfter()).isEqualTo(1L);
    assertThat(promote.note()).isEqualTo("fixture for the stored-schema test");
    for (Row r : rows) {
      assertThat(ModelRegistry.Decision.fromRow(r).toRow()).isEqualTo(Row.fromSeq(r.toSeq()));
    }
  }

  @Test
  void aliasAndMetricsTablesKeepTheirColumns() throws Exception {
    sameColumns(ModelRegistry.ALIAS_SCHEMA, "model_aliases");
    sameColumns(MetricsTable.SCHEMA, "model_metrics");
    assertThat(table("model_metrics").collectAsList()).allSatisfy(r -> assertThat(MetricsTable.fromRow(r).rows())
        .isPositive());
  }
}
