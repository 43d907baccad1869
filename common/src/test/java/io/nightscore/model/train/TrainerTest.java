package io.nightscore.model.train;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nightscore.common.config.EventSchema;
import io.nightscore.common.config.Settings;
import io.nightscore.model.engine.CpuFit;
import io.nightscore.model.engine.TrainingRows;
import io.nightscore.model.features.CategoricalEncoding;
import io.nightscore.model.features.Features;
import io.nightscore.testing.SparkTestBase;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassifier;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * On the CPU Trainer hands XGBoost its input encoded in one pass over the rows and planned once; the floats,
 * the rows and so the model are those of the Spark-expression query.
 */
class TrainerTest extends SparkTestBase {
  static final EventSchema SCHEMA = new EventSchema("event_id", "event_time", "converted", List.of("n", "x", "k"),
      List.of("site", "dev"));

  /**
   * Raw events of two days from 3 partitions: an int, a double and a long feature with nulls; two categoricals
   * with nulls, rare values (below the minimum count) and a value the encoding never saw.
   */
  static Dataset<Row> events(long seed, int rows) {
    StructType schema = new StructType().add("event_id", DataTypes.StringType).add("dt", DataTypes.DateType)
        .add("n", DataTypes.IntegerType).add("x", DataTypes.DoubleType).add("k", DataTypes.LongType)
        .add("site", DataTypes.StringType).add("dev", DataTypes.StringType).add("converted", DataTypes.IntegerType);
    Random rnd = new Random(seed);
    List<Row> data = new ArrayList<>();
    for (int i = 0; i < rows; i++) {
      int site = rnd.nextInt(14);
      Integer n = rnd.nextInt(9) == 0 ? null : rnd.nextInt(100);
      Double x = rnd.nextInt(7) == 0 ? null : rnd.nextGaussian() * 1e3;
      Long k = rnd.nextInt(11) == 0 ? null : rnd.nextLong() >> 20;
      double logit = -1.5 + (site < 4 ? 1.2 : -0.4) + (x == null ? 0.3 : x / 2e3);
      int y = rnd.nextDouble() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
      String siteValue = i % 41 == 0 ? null : i % 89 == 0 ? "new" : site >= 12 ? "r" + i : "s" + site;
      String dev = rnd.nextInt(10) == 0 ? null : "d" + rnd.nextInt(3);
      data.add(RowFactory.create(seed + "-" + i, java.sql.Date.valueOf(i % 2 == 0 ? "2026-11-02" : "2026-11-03"),
          n, x, k, siteValue, dev, y));
    }
    return spark.createDataFrame(data, schema).repartition(3);
  }

  /** Training rows with target statistics over 3 folds, and early-stopping rows with the stored rates. */
  static TrainingRows[] trainAndHoldout() {
    Dataset<Row> train = events(1, 4_000);
    Column fold = Sampling.fold(7, col("event_id"), 3);
    CategoricalEncoding.TargetFit target = CategoricalEncoding.fitWithTargetStats(train, SCHEMA.categorical(), 100, 20,
        "converted", fold, 3, 10);
    return new TrainingRows[] {TrainingRows.withTargetStats(train, SCHEMA, target, fold),
        TrainingRows.of(events(2, 2_000), SCHEMA, target.encoding())};
  }

  /** event id → label and the feature floats as bits (NaN included), from rows with id, label, feature array. */
  static Map<String, List<Integer>> byId(Dataset<Row> rows) {
    Map<String, List<Integer>> out = new HashMap<>();
    for (Row r : rows.select("event_id", "converted", Features.COLUMN).collectAsList()) {
      List<Integer> values = new ArrayList<>(List.of(r.getInt(1)));
      values.addAll(bits(r.getList(2)));
      out.put(r.getString(0), values);
    }
    return out;
  }

  /** A feature array's floats as their bits, so NaN equals NaN. */
  static List<Integer> bits(List<Float> values) {
    return values.stream().map(Float::floatToIntBits).toList();
  }

  @Test
  void encodedRowsCarryTheFloatsOfTheSparkExpressions() {
    for (TrainingRows rows : trainAndHoldout()) {
      Map<String, List<Integer>> expected = byId(rows.assembled());
      assertThat(expected).hasSize((int) rows.events().count());
      assertThat(byId(rows.encoded())).as("label and every feature float, bit for bit, of every event")
          .isEqualTo(expected);
    }
    // A feature of a type the row pass does not read: the Spark expressions instead.
    TrainingRows strings = TrainingRows.of(events(3, 100).withColumn("n", col("n").cast("string")), SCHEMA,
        CategoricalEncoding.fit(events(3, 100), SCHEMA.categorical(), 100, 1));
    assertThat(strings.encoded()).isNull();
  }

  /**
   * From Parquet files (dt-partitioned, as the events table is) encoded() reads the scan's column batches,
   * evaluating the query's filters (label present, negatives sampled, the tuning split) and fold on each batch's
   * rows: the same rows and floats as the Spark expressions, with strings dictionary-encoded (several row groups
   * and batches) or plain.
   */
  @Test
  void encodedColumnBatchesCarryTheFloatsOfTheSparkExpressions() {
    Dataset<Row> raw = events(1, 4_000).withColumn("converted",
        functions.when(col("event_id").endsWith("7"), null).otherwise(col("converted")));
    String size = spark.conf().get("spark.sql.parquet.columnarReaderBatchSize");
    spark.conf().set("spark.sql.parquet.columnarReaderBatchSize", "97");
    try {
      for (boolean dictionary : List.of(true, false)) {
        String path = scratch.resolve("training-" + dictionary).toString();
        raw.repartition(2).write().mode("overwrite").option("parquet.enable.dictionary", dictionary)
            .option("parquet.block.size", 8192).partitionBy("dt").parquet(path);
        Dataset<Row> labelled = spark.read().parquet(path).where(col("converted").isNotNull());
        Dataset<Row> train = Sampling.negatives(labelled, SCHEMA, 0.5, 7);
        Column fold = Sampling.fold(7, col("event_id"), 3);
        CategoricalEncoding.TargetFit target = CategoricalEncoding.fitWithTargetStats(train, SCHEMA.categorical(),
            100, 20, "converted", fold, 3, 10);
        TrainingRows[] rows = {TrainingRows.withTargetStats(train, SCHEMA, target, fold),
            TrainingRows.of(labelled.where(Sampling.unit(7, col("event_id")).lt(0.5)), SCHEMA, target.encoding())};
        for (TrainingRows r : rows) {
          assertThat(r.readsColumnBatches()).as("a columnar scan under a filter and a projection").isTrue();
          Map<String, List<Integer>> expected = byId(r.assembled());
          assertThat(expected).hasSize((int) r.events().count()).hasSizeLessThan(4_000);
          assertThat(byId(r.encoded())).as("label and every feature float, bit for bit, of every kept event")
              .isEqualTo(expected);
        }
      }
    } finally {
      spark.conf().set("spark.sql.parquet.columnarReaderBatchSize", size);
    }
  }

  @Test
  void fitTrainsTheModelOfTheSparkExpressionQuery() throws Exception {
    Settings settings = Settings.defaults(Map.of("nightscore.xgboost.num-round", "8",
        "nightscore.xgboost.early-stopping-rounds", "3", "nightscore.xgboost.num-workers", "2"));
    TrainingRows[] rows = trainAndHoldout();

    XGBoostClassifier plain = Trainer.classifier(SCHEMA, "target", settings.xgboost(), true);
    plain.setEvalDataset(Trainer.deterministicLayout(rows[1].assembled(), 2, "event_id"));
    byte[] expected = plain.fit(Trainer.deterministicLayout(rows[0].assembled(), 2, "event_id")).nativeBooster()
        .toByteArray("ubj");

    XGBoostClassifier once = Trainer.classifier(SCHEMA, "target", settings.xgboost(), true);
    byte[][] got = new byte[1][];
    List<String> log = logged(CpuFit.class.getName(), () -> got[0] = Trainer.fit(once, rows[0], rows[1], "event_id")
        .nativeBooster().toByteArray("ubj"));
    assertThat(got[0]).as("the same booster, byte for byte").isEqualTo(expected);
    assertThat(log).as("the training's parameter line: the threads fitRows hands XGBoost")
        .anyMatch(line -> line.startsWith("XGBoost training (attempt 1 of ") && line.contains("nthread -> 1"));
    assertThat(CpuFit.nativeParams(once, spark.sparkContext()).get("nthread"))
        .as("threads per worker: 2 local cores shared by 2 workers").isEqualTo(scala.Option.apply(1));
    XGBoostClassifier alone = Trainer.classifier(SCHEMA, "target", Settings.defaults(Map.of(
        "nightscore.xgboost.num-workers", "1")).xgboost(), false);
    assertThat(CpuFit.nativeParams(alone, spark.sparkContext()).get("nthread")).as("one local worker: both cores")
        .isEqualTo(scala.Option.apply(2));

    Dataset<Row> input = Trainer.input(rows[0], 2, "event_id", "converted");
    assertThat(input.columns()).as("what XGBoost reads, then the layout's key").containsExactly("converted",
        Features.COLUMN, "_layout_key");
    assertThat(input.rdd().getNumPartitions()).as("one partition per worker").isEqualTo(2);
    List<List<Object>> laidOut = new ArrayList<>();
    for (Row r : Trainer.deterministicLayout(rows[0].assembled(), 2, "event_id").select(col("converted")
        .cast("float"), col(Features.COLUMN)).collectAsList()) {
      laidOut.add(List.of(r.get(0), bits(r.getList(1))));
    }
    List<List<Object>> planned = new ArrayList<>();
    for (Row r : input.collectAsList()) {
      planned.add(List.of(r.get(0), bits(r.getList(1))));
    }
    assertThat(planned).as("the rows of the laid-out Spark-expression query, each once, in its order")
        .isEqualTo(laidOut);
  }

  /** The messages logger {@code name} logs at INFO and above while {@code body} runs. */
  private static List<String> logged(String name, java.util.concurrent.Callable<?> body) throws Exception {
    org.apache.logging.log4j.core.Logger logger =
        (org.apache.logging.log4j.core.Logger) org.apache.logging.log4j.LogManager.getLogger(name);
    List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
    org.apache.logging.log4j.core.appender.AbstractAppender capture =
        new org.apache.logging.log4j.core.appender.AbstractAppender("capture", null, null, true,
            org.apache.logging.log4j.core.config.Property.EMPTY_ARRAY) {
          @Override
          public void append(org.apache.logging.log4j.core.LogEvent event) {
            lines.add(event.getMessage().getFormattedMessage());
          }
        };
    capture.start();
    org.apache.logging.log4j.Level level = logger.getLevel();
    logger.addAppender(capture);
    logger.setLevel(org.apache.logging.log4j.Level.INFO);
    try {
      body.call();
    } finally {
      logger.removeAppender(capture);
      logger.setLevel(level);
      capture.stop();
    }
    return lines;
  }

  /**
   * A CPU worker trains with its task's cores on a cluster, with its share of the JVM's cores in local mode, unless
   * the settings name a thread count; its dense copy is bounded by the workers its JVM may hold.
   */
  @Test
  void workerThreadsAreTheTasksCores() {
    org.apache.spark.SparkConf conf = new org.apache.spark.SparkConf(false).set("spark.task.cpus", "4");
    assertThat(CpuFit.threadsPerWorker(conf, false, 64, 2)).as("cluster: spark.task.cpus").isEqualTo(4);
    assertThat(CpuFit.threadsPerWorker(conf, true, 16, 2)).as("local: the cores shared").isEqualTo(8);
    assertThat(CpuFit.threadsPerWorker(conf, true, 16, 8)).as("local: at least spark.task.cpus").isEqualTo(4);
    org.apache.spark.SparkConf plain = new org.apache.spark.SparkConf(false);
    assertThat(CpuFit.threadsPerWorker(plain, true, 2, 1)).as("one local worker, 2 cores").isEqualTo(2);
    assertThat(CpuFit.threadsPerWorker(plain, true, 2, 3)).isEqualTo(1);

    assertThat(CpuFit.workersPerJvm(conf, true, 3)).as("local: every worker").isEqualTo(3);
    assertThat(CpuFit.workersPerJvm(conf.clone().set("spark.executor.cores", "8"), false, 32)).as("slots")
        .isEqualTo(2);
    assertThat(CpuFit.workersPerJvm(conf.clone().set("spark.executor.cores", "8"), false, 1)).isEqualTo(1);
    assertThat(CpuFit.workersPerJvm(plain, false, 32)).as("executor cores unknown").isEqualTo(8);
    assertThat(CpuFit.denseFloats(1)).isEqualTo(8 * CpuFit.denseFloats(8));

    XGBoostClassifier named = Trainer.classifier(SCHEMA, "target", Settings.defaults(Map.of(
        "nightscore.xgboost.params.nthread", "2", "nightscore.xgboost.num-workers", "2")).xgboost(), false);
    assertThat(CpuFit.nativeParams(named, spark.sparkContext()).get("nthread"))
        .as("a named thread count is kept, whatever the cores").isEqualTo(scala.Option.apply(2));
    XGBoostClassifier unset = Trainer.classifier(SCHEMA, "target", Settings.defaults(Map.of()).xgboost(), false);
    assertThat(unset.getXGBoostParams().contains("nthread")).as("xgboost4j-spark passes none by itself").isFalse();
  }

  /**
   * A worker's DMatrix is the same whether its rows fit in one dense array (growing past its first size) or pass
   * the bound and are streamed in xgboost4j-spark's batches after the rows already copied: same rows, labels,
   * missing values, and the same booster trained on it.
   */
  @Test
  void workerMatrixIsTheSameDenseOrStreamed() throws Exception {
    int width = 5;
    Random rnd = new Random(3);
    List<InternalRow> rows = new ArrayList<>();
    for (int i = 0; i < 5_000; i++) {
      float[] v = new float[width];
      for (int j = 0; j < width; j++) {
        v[j] = rnd.nextInt(6) == 0 ? Float.NaN : rnd.nextInt(50) + (j == 0 && rnd.nextBoolean() ? 20 : 0);
      }
      float label = rnd.nextInt(4) == 0 || v[0] > 40 ? 1f : 0f;
      rows.add(new GenericInternalRow(new Object[] {label, UnsafeArrayData.fromPrimitiveArray(v)}));
    }
    String[] names = {"a", "b", "c", "d", "e"};
    String[] types = {"q", "q", "q", "q", "q"};
    Map<String, Object> params = Map.of("objective", "binary:logistic", "tree_method", "hist", "max_depth", 4,
        "seed", 7, "nthread", 1);
    List<byte[]> boosters = new ArrayList<>();
    List<float[]> labels = new ArrayList<>();
    for (long bound : List.of(Long.MAX_VALUE, 1_000L * width, 0L)) {
      ml.dmlc.xgboost4j.java.DMatrix m = CpuFit.matrix(rows.iterator(), Float.NaN, names, types, bound).jDMatrix();
      assertThat(m.rowNum()).as("rows, bound " + bound).isEqualTo(5_000);
      labels.add(m.getLabel());
      boosters.add(ml.dmlc.xgboost4j.java.XGBoost.train(m, params, 5, Map.of(), null, null).toByteArray("ubj"));
      m.dispose();
    }
    assertThat(labels.get(1)).isEqualTo(labels.get(0));
    assertThat(labels.get(2)).isEqualTo(labels.get(0));
    assertThat(boosters.get(1)).as("streamed after 1,000 dense rows: the same booster").isEqualTo(boosters.get(0));
    assertThat(boosters.get(2)).as("streamed from the first row: the same booster").isEqualTo(boosters.get(0));

    List<InternalRow> wrong = List.of(rows.get(0), new GenericInternalRow(new Object[] {0f,
        UnsafeArrayData.fromPrimitiveArray(new float[width + 1])}));
    assertThatThrownBy(() -> CpuFit.matrix(wrong.iterator(), Float.NaN, names, types, Long.MAX_VALUE))
        .hasMessageContaining("has 6 features").hasMessageContaining("the model 5");
  }

  @Test
  void layoutIsFixedByTheEventsNotByTheOrderTheyArriveIn() {
    Dataset<Row> events = events(4, 3_000);
    List<List<String>> expected = partitions(Trainer.deterministicLayout(events, 3, "event_id"));
    assertThat(expected).as("one partition per worker").hasSize(3);
    assertThat(expected.stream().mapToInt(List::size).sum()).isEqualTo(3_000);
    for (List<Long> keys : Trainer.deterministicLayout(events, 3, "event_id")
        .select(functions.xxhash64(col("event_id"), col("dt"))).as(Encoders.LONG()).javaRDD().glom().collect()) {
      assertThat(keys).as("rows in the order of the hash of (id, day)").isSorted();
    }
    Dataset<Row> reordered = events.repartition(5, col("x")).sortWithinPartitions(col("event_id").desc());
    assertThat(partitions(Trainer.deterministicLayout(reordered, 3, "event_id")))
        .as("the same rows in the same partitions and order from another partitioning and order").isEqualTo(expected);
  }

  /** Each partition's rows as "event id|day", in order. */
  static List<List<String>> partitions(Dataset<Row> rows) {
    return rows.select(functions.concat_ws("|", col("event_id"), col("dt").cast("string"))).as(Encoders.STRING())
        .javaRDD().glom().collect();
  }
}
