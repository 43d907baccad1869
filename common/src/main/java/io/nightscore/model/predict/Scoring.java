package io.nightscore.model.predict;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.nightscore.common.config.EventSchema;
import io.nightscore.model.DevicePreflight;
import io.nightscore.model.engine.BatchPredictor;
import io.nightscore.model.engine.ColumnarScan;
import io.nightscore.model.engine.RowFeatures;
import io.nightscore.model.features.CategoricalEncoding;
import io.nightscore.model.features.Features;
import java.sql.Timestamp;
import java.time.LocalDate;
import java.util.List;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassificationModel;
import org.apache.spark.ml.functions;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** Scoring transforms: model inputs in, probabilities out. */
public final class Scoring {
  private Scoring() {}

  /**
   * Adds {@code scoreCol} = the booster's own P(label = 1), before any calibration, for assembled rows.
   * With the RAPIDS Accelerator on, xgboost4j-spark-gpu's own transform predicts on the GPU from columnar
   * batches; otherwise {@link BatchPredictor} feeds the native booster dense batches of the feature columns.
   */
  public static Dataset<Row> predictRaw(XGBoostClassificationModel model, Dataset<Row> assembled, String scoreCol) {
    if (DevicePreflight.rapidsEnabled(assembled.sparkSession().sparkContext().getConf())) {
      XGBoostClassificationModel m = model.copy(new org.apache.spark.ml.param.ParamMap());
      m.setProbabilityCol("_probability").setRawPredictionCol("").setPredictionCol("");
      return m.transform(assembled).withColumn(scoreCol,
          functions.vector_to_array(col("_probability"), "float64").getItem(1)).drop("_probability");
    }
    return BatchPredictor.predict(model.nativeBooster(), assembled, featureNames(model), Features.COLUMN,
        scoreCol, model.getInferBatchSize());
  }

  /** The booster's features, in the order of its input matrix (training stores them in the model). */
  static List<String> featureNames(XGBoostClassificationModel model) {
    try {
      String[] names = model.nativeBooster().booster().getFeatureNames();
      if (names == null || names.length == 0) {
        throw new IllegalStateException("the model's booster has no feature names; retrain it with this version");
      }
      return List.of(names);
    } catch (ml.dmlc.xgboost4j.java.XGBoostError e) {
      throw new IllegalStateException("cannot read the booster's feature names", e);
    }
  }

  /**
   * The {@code scores} rows of one day: id, dt, score, model_version, events_version (the events table
   * version scored, for Delta time travel), scored_at.
   */
  public static Dataset<Row> scoreDay(ServedModel loaded, Dataset<Row> events, EventSchema schema,
      LocalDate date, long eventsVersion, Timestamp scoredAt) {
    return probabilities(loaded, events, schema, List.of(schema.id()), "score").select(
        col(schema.id()),
        lit(java.sql.Date.valueOf(date)).as("dt"),
        col("score"),
        lit(loaded.version()).as("model_version"),
        lit(eventsVersion).as("events_version"),
        lit(scoredAt).as("scored_at"));
  }

  /**
   * The columns {@code keep} of raw events and {@code scoreCol}, their published probability: a stored model's
   * booster ({@link #rawProbabilities}), then its calibration.
   */
  public static Dataset<Row> probabilities(ServedModel loaded, Dataset<Row> events, EventSchema schema,
      List<String> keep, String scoreCol) {
    return rawProbabilities(loaded.model(), loaded.encoding(), events, schema, keep, "_raw")
        .withColumn(scoreCol, loaded.calibration().apply(col("_raw"))).drop("_raw");
  }

  /**
   * The columns {@code keep} of raw events, in that order, and {@code scoreCol}, the booster's own P(label = 1).
   * On the CPU the model inputs are computed inside the prediction pass, from the scan's column batches when the
   * events are a plain columnar scan ({@link BatchPredictor#predictColumnar}), else from its rows
   * ({@link BatchPredictor#predictEvents}); with the RAPIDS Accelerator on (or a feature column of a type that
   * pass does not read) they are assembled with Spark expressions first, and the other columns of that assembly
   * come along.
   */
  public static Dataset<Row> rawProbabilities(XGBoostClassificationModel model, CategoricalEncoding encoding,
      Dataset<Row> events, EventSchema schema, List<String> keep, String scoreCol) {
    List<String> features = featureNames(model);
    Dataset<Row> inputs = inputs(events, keep, features);
    RowFeatures direct = cpuEncoder(inputs, features, schema, encoding);
    if (direct == null) {
      return predictRaw(model, assembledInputs(encoding, events, schema, keep.toArray(new String[0])), scoreCol);
    }
    Dataset<Row> raw = BatchPredictor.predictColumnar(model.nativeBooster(), inputs, keep.size(), direct, scoreCol);
    return raw != null ? raw : BatchPredictor.predictEvents(model.nativeBooster(), inputs, keep.size(), direct,
        scoreCol, model.getInferBatchSize());
  }

  /**
   * The encoder of the CPU pass over {@code inputs}, or null when the model inputs are Spark expressions instead:
   * the RAPIDS Accelerator is on, or a feature column has a type that pass does not read.
   */
  private static RowFeatures cpuEncoder(Dataset<Row> inputs, List<String> features, EventSchema schema,
      CategoricalEncoding encoding) {
    RowFeatures direct = RowFeatures.of(inputs.schema(), features, schema, encoding);
    return direct == null || DevicePreflight.rapidsEnabled(inputs.sparkSession().sparkContext().getConf()) ? null
        : direct;
  }

  /** The columns {@code keep}, then the raw feature columns in the booster's order. */
  private static Dataset<Row> inputs(Dataset<Row> events, List<String> keep, List<String> features) {
    return events.select(java.util.stream.Stream.concat(keep.stream(), features.stream())
        .map(org.apache.spark.sql.functions::col).toArray(org.apache.spark.sql.Column[]::new));
  }

  /**
   * What {@link #probabilities} reads, for timing the decode alone: the scan's column batches when its CPU pass
   * reads those (the same choice: {@link #cpuEncoder}, then a columnar scan), else the rows of the events'
   * model-input columns.
   */
  public static org.apache.spark.rdd.RDD<?> scanned(ServedModel loaded, Dataset<Row> events,
      EventSchema schema, String keep) {
    List<String> features = featureNames(loaded.model());
    Dataset<Row> inputs = inputs(events, List.of(keep), features);
    ColumnarScan columnar = cpuEncoder(inputs, features, schema, loaded.encoding()) == null
        ? null : BatchPredictor.scoringScan(inputs.queryExecution().executedPlan());
    return columnar != null ? columnar.scan().executeColumnar() : inputs.queryExecution().toRdd();
  }

  /**
   * The query the RAPIDS path predicts from: {@code keep} and the model inputs assembled with Spark
   * expressions, which xgboost4j-spark-gpu's transform takes to the GPU in columnar batches. gpu-check explains
   * it for score.
   */
  public static Dataset<Row> assembledInputs(CategoricalEncoding encoding, Dataset<Row> events, EventSchema schema,
      String... keep) {
    return Features.assemble(Features.modelInputs(events, schema, keep), schema, encoding);
  }
}
