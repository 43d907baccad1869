package io.nightscore.model.predict;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nightscore.common.config.EventSchema;
import io.nightscore.model.engine.BatchPredictor;
import io.nightscore.model.engine.RowFeatures;
import io.nightscore.model.features.CategoricalEncoding;
import io.nightscore.model.features.Features;
import io.nightscore.testing.SparkTestBase;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassificationModel;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassifier;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The batch predictor gives xgboost4j-spark's own predictions, missing values and batch edges included; scoring raw
 * events gives what scoring their assembled features gives.
 */
class ScoringTest extends SparkTestBase {
  static final List<String> FEATURES = List.of("a", "b", "c");
  static Dataset<Row> rows;
  static XGBoostClassificationModel model;

  @BeforeAll
  static void train() {
    StructType schema = new StructType().add("id", DataTypes.StringType).add("a", DataTypes.FloatType)
        .add("b", DataTypes.FloatType).add("c", DataTypes.FloatType).add("y", DataTypes.DoubleType);
    Random rnd = new Random(3);
    List<Row> data = new ArrayList<>();
    for (int i = 0; i < 3001; i++) {
      float a = (float) rnd.nextGaussian();
      float b = rnd.nextInt(10) == 0 ? Float.NaN : (float) rnd.nextGaussian();
      float c = rnd.nextInt(5);
      double logit = -2 + a + (Float.isNaN(b) ? 0.5 : -b) + 0.3 * c;
      double y = rnd.nextDouble() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
      data.add(RowFactory.create("e" + i, a, b, c, y));
    }
    rows = spark.createDataFrame(data, schema).repartition(3)
        .withColumn(Features.COLUMN, org.apache.spark.sql.functions.array(col("a"), col("b"), col("c")));
    Map<String, Object> params = new HashMap<>(Map.of("objective", "binary:logistic", "max_depth", 4,
        "eta", 0.3, "device", "cpu", "tree_method", "hist"));
    XGBoostClassifier clf = new XGBoostClassifier(
        scala.collection.JavaConverters.mapAsScalaMap(params).toMap(scala.Predef.$conforms()));
    clf.setFeaturesCol(Features.COLUMN);
    clf.setFeatureNames(FEATURES.toArray(new String[0]));
    clf.setLabelCol("y");
    clf.setNumWorkers(1);
    clf.setNumRound(20);
    clf.setMissing(Float.NaN);
    clf.setInferBatchSize(1000);
    model = clf.fit(rows);
  }

  @Test
  void batchPredictionsEqualXGBoostSparkTransform() {
    XGBoostClassificationModel m = model.copy(new org.apache.spark.ml.param.ParamMap());
    m.setProbabilityCol("_probability").setRawPredictionCol("").setPredictionCol("");
    Map<String, Double> expected = new HashMap<>();
    for (Row r : m.transform(rows).select(col("id"),
        org.apache.spark.ml.functions.vector_to_array(col("_probability"), "float64").getItem(1)).collectAsList()) {
      expected.put(r.getString(0), r.getDouble(1));
    }
    // 3001 rows in 3 partitions with batches of 1000: full batches and a short last batch in each.
    Dataset<Row> predicted = Scoring.predictRaw(model, rows, "p");
    assertThat(predicted.columns()).containsExactly("id", "y", "p");
    List<Row> got = predicted.collectAsList();
    assertEquals(3001, got.size());
    for (Row r : got) {
      assertEquals(expected.get(r.getString(0)), r.getDouble(2), 1e-7, "event " + r.getString(0));
    }
    assertThat(got.stream().mapToDouble(r -> r.getDouble(2)).distinct().count()).isGreaterThan(20);
  }

  @Test
  void featureOrderComesFromTheBooster() {
    assertEquals(FEATURES, Scoring.featureNames(model));
    // Columns in another order give the same predictions: values are read by name.
    Dataset<Row> shuffled = rows.select("c", "id", "b", "y", "a", Features.COLUMN);
    double a = Scoring.predictRaw(model, rows, "p").where(col("id").equalTo("e7")).head().getAs("p");
    double b = Scoring.predictRaw(model, shuffled, "p").where(col("id").equalTo("e7")).head().getAs("p");
    assertEquals(a, b, 0.0);
  }

  /** A query over a model loaded for it only, as score does, and a weak reference to that model. */
  record Transient(Dataset<Row> predicted, java.lang.ref.WeakReference<XGBoostClassificationModel> model) {}

  static Transient predictWithATransientModel(String path) {
    XGBoostClassificationModel loaded = XGBoostClassificationModel.read().load(path);
    return new Transient(Scoring.predictRaw(loaded, rows, "p"), new java.lang.ref.WeakReference<>(loaded));
  }

  @Test
  void theModelMayBeCollectedBeforeTheQueryRuns() throws Exception {
    String path = scratch.resolve("model").toString();
    model.write().overwrite().save(path);
    Transient t = predictWithATransientModel(path);
    // XGBoost's Scala booster disposes its native booster when finalized: the query must keep it alive. The
    // test first makes sure the caller's model is gone (collected and finalized), so the query really runs after.
    for (int i = 0; i < 50 && t.model().get() != null; i++) {
      System.gc();
      System.runFinalization();
    }
    assertThat(t.model().get()).as("the caller's model was collected before the query ran").isNull();
    System.runFinalization();
    assertEquals(3001, t.predicted().where(col("p").between(0, 1)).count());
  }

  /** Raw events (int and double numerics, one categorical; nulls, rare and unseen values), a model and its encoding. */
  record Events(Dataset<Row> rows, EventSchema schema, CategoricalEncoding encoding,
      XGBoostClassificationModel model) {}

  static Events events() {
    StructType schema = new StructType().add("id", DataTypes.StringType).add("n", DataTypes.IntegerType)
        .add("x", DataTypes.DoubleType).add("site", DataTypes.StringType).add("y", DataTypes.IntegerType);
    EventSchema events = new EventSchema("id", "t", "y", List.of("n", "x"), List.of("site"));
    Random rnd = new Random(5);
    List<Row> data = new ArrayList<>();
    for (int i = 0; i < 2500; i++) {
      int site = rnd.nextInt(12);
      Integer n = rnd.nextInt(8) == 0 ? null : rnd.nextInt(100);
      Double x = rnd.nextInt(8) == 0 ? null : rnd.nextGaussian() * 1e3;
      double logit = -1 + (site < 3 ? 1.5 : -0.5) + (x == null ? 0.3 : x / 2e3);
      int y = rnd.nextDouble() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
      // sites 10 and 11 are rare (min count below), "new" never seen in training, null missing
      String value = i % 50 == 0 ? null : i % 97 == 0 ? "new" : site >= 10 ? "r" + i : "s" + site;
      data.add(RowFactory.create("e" + i, n, x, value, y));
    }
    Dataset<Row> all = spark.createDataFrame(data, schema).repartition(2);
    Column fold = functions.abs(functions.hash(col("id"))).mod(3);
    CategoricalEncoding.TargetFit target = CategoricalEncoding.fitWithTargetStats(all, events.categorical(), 100, 5,
        "y", fold, 3, 10);
    Dataset<Row> train = Features.assembleTraining(all, events, target, fold);
    Map<String, Object> params = new HashMap<>(Map.of("objective", "binary:logistic", "max_depth", 3,
        "device", "cpu", "tree_method", "hist"));
    XGBoostClassifier clf = new XGBoostClassifier(
        scala.collection.JavaConverters.mapAsScalaMap(params).toMap(scala.Predef.$conforms()));
    clf.setFeaturesCol(Features.COLUMN);
    clf.setFeatureNames(new String[] {"n", "x", "site"});
    clf.setLabelCol("y");
    clf.setNumWorkers(1);
    clf.setNumRound(10);
    clf.setMissing(Float.NaN);
    return new Events(all, events, target.encoding(), clf.fit(train));
  }

  /**
   * Scoring reads raw events itself on the CPU (RowFeatures inside the prediction pass); it must give exactly
   * what predicting Features.assemble's columns gives: numeric types cast, nulls, unseen and rare values, target
   * rates.
   */
  @Test
  void scoringRawEventsEqualsScoringAssembledFeatures() {
    Events fixture = events();
    XGBoostClassificationModel m = fixture.model();
    EventSchema events = fixture.schema();
    Dataset<Row> all = fixture.rows();
    CategoricalEncoding stored = fixture.encoding();
    Dataset<Row> inputs = Features.modelInputs(all, events, "id");
    RowFeatures direct = RowFeatures.of(inputs.schema(), List.of("n", "x", "site"), events, stored);
    // The model inputs themselves, bit for bit: every row's floats from the row encoder and from Spark.
    Map<String, float[]> assembled = new HashMap<>();
    for (Row r : Features.assemble(inputs, events, stored).select("id", "n", "x", "site").collectAsList()) {
      assembled.put(r.getString(0), new float[] {r.getFloat(1), r.getFloat(2), r.getFloat(3)});
    }
    List<scala.Tuple2<String, float[]>> encoded = inputs.queryExecution().toRdd().toJavaRDD().map(r -> {
      float[] out = new float[direct.width()];
      direct.encode(r, 1, out, 0);
      return new scala.Tuple2<>(r.getUTF8String(0).toString(), out);
    }).collect();
    assertEquals(2500, encoded.size());
    for (scala.Tuple2<String, float[]> e : encoded) {
      assertThat(e._2()).as("event " + e._1()).containsExactly(assembled.get(e._1()));
    }
    Map<String, Double> expected = new HashMap<>();
    for (Row r : Scoring.predictRaw(m, Features.assemble(inputs, events, stored), "p").collectAsList()) {
      expected.put(r.getString(0), r.getDouble(1));
    }
    List<Row> got = BatchPredictor.predictEvents(m.nativeBooster(), inputs, 1, direct, "p", 700).collectAsList();
    assertEquals(2500, got.size());
    for (Row r : got) {
      assertEquals(expected.get(r.getString(0)), r.getDouble(1), 0.0, "event " + r.getString(0));
    }
    assertThat(got.stream().mapToDouble(r -> r.getDouble(1)).distinct().count()).isGreaterThan(20);
    assertThat(RowFeatures.of(new StructType().add("id", DataTypes.StringType).add("n", DataTypes.StringType)
        .add("x", DataTypes.DoubleType).add("site", DataTypes.StringType), List.of("n", "x", "site"), events, stored))
        .as("a type the row encoder does not read: Spark expressions instead").isNull();
  }

  /**
   * From Parquet files scoring reads the scan's column batches: the same predictions as from rows, whether the
   * reader hands strings over dictionary-encoded (several row groups, so several dictionaries, and several batches
   * in each) or plain.
   */
  @Test
  void scoringColumnBatchesEqualsScoringRows() {
    Events e = events();
    List<String> features = List.of("n", "x", "site");
    String size = spark.conf().get("spark.sql.parquet.columnarReaderBatchSize");
    spark.conf().set("spark.sql.parquet.columnarReaderBatchSize", "97");
    try {
      for (boolean dictionary : List.of(true, false)) {
        String path = scratch.resolve("columnar-" + dictionary).toString();
        e.rows().repartition(1).write().mode("overwrite").option("parquet.enable.dictionary", dictionary)
            .option("parquet.block.size", 4096).parquet(path);
        Dataset<Row> inputs = spark.read().parquet(path).select("id", "n", "x", "site");
        RowFeatures direct = RowFeatures.of(inputs.schema(), features, e.schema(), e.encoding());
        Map<String, Double> expected = new HashMap<>();
        for (Row r : BatchPredictor.predictEvents(e.model().nativeBooster(), inputs, 1, direct, "p", 700)
            .collectAsList()) {
          expected.put(r.getString(0), r.getDouble(1));
        }
        Dataset<Row> columnar = BatchPredictor.predictColumnar(e.model().nativeBooster(), inputs, 1, direct, "p");
        assertThat(columnar).as("a plain Parquet scan is read in column batches").isNotNull();
        List<Row> got = columnar.collectAsList();
        assertEquals(2500, got.size(), "one score per event (dictionary " + dictionary + ")");
        for (Row r : got) {
          assertEquals(expected.get(r.getString(0)), r.getDouble(1), 0.0, "event " + r.getString(0));
        }
        assertThat(got.stream().mapToDouble(r -> r.getDouble(1)).distinct().count()).isGreaterThan(20);
      }
    } finally {
      spark.conf().set("spark.sql.parquet.columnarReaderBatchSize", size);
    }
    String path = scratch.resolve("columnar-true").toString();
    RowFeatures direct = RowFeatures.of(spark.read().parquet(path).select("id", "n", "x", "site").schema(), features,
        e.schema(), e.encoding());
    assertThat(BatchPredictor.predictColumnar(e.model().nativeBooster(), spark.read().parquet(path)
        .where(col("n").gt(5)).select("id", "n", "x", "site"), 1, direct, "p"))
        .as("a filter after the scan: rows instead").isNull();
    assertThat(BatchPredictor.predictColumnar(e.model().nativeBooster(), e.rows().select("id", "n", "x", "site"), 1,
        direct, "p")).as("not a columnar scan").isNull();
  }

  /**
   * Retrain scores its holdout day once from the bare scan, keeping the id and the label: with several columns
   * kept, each row still gets the score it gets with the id alone, and its own label.
   */
  @Test
  void rawProbabilitiesKeepsSeveralColumns() {
    Events e = events();
    String path = scratch.resolve("keep-several").toString();
    e.rows().repartition(2).write().mode("overwrite").parquet(path);
    Dataset<Row> scan = spark.read().parquet(path);
    Map<String, Double> byId = new HashMap<>();
    for (Row r : Scoring.rawProbabilities(e.model(), e.encoding(), scan, e.schema(), List.of("id"), "p").collectAsList()) {
      byId.put(r.getString(0), r.getDouble(1));
    }
    Map<String, Integer> labels = new HashMap<>();
    for (Row r : scan.select("id", "y").collectAsList()) {
      labels.put(r.getString(0), r.isNullAt(1) ? null : r.getInt(1));
    }
    Dataset<Row> kept = Scoring.rawProbabilities(e.model(), e.encoding(), scan, e.schema(), List.of("id", "y"), "p");
    assertThat(kept.columns()).containsExactly("id", "y", "p");
    List<Row> rows = kept.collectAsList();
    assertEquals(2500, rows.size());
    for (Row r : rows) {
      assertEquals(byId.get(r.getString(0)), r.getDouble(2), 0.0, "event " + r.getString(0));
      assertEquals(labels.get(r.getString(0)), r.isNullAt(1) ? null : r.getInt(1), "label of " + r.getString(0));
    }
  }
}
