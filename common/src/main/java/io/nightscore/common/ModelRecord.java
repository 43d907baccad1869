package io.nightscore.common;

import java.sql.Date;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * One row of the {@code models} table: what was trained, on which data (window, events table version),
 * with which parameters and recipe, how it is calibrated, how it did on the holdout day's evaluation
 * half, how training went (log loss per round), where its artifacts and report are, and the fingerprints
 * that make it reproducible and checkable: code commit, SHA-256 of the resolved config, of the feature
 * schema and of every artifact file. Rows are written once and never updated (versions are immutable);
 * a version's status comes from {@link ModelRegistry}.
 */
public record ModelRecord(
    long version,
    Instant createdAt,
    LocalDate trainStart,
    LocalDate trainEnd,
    LocalDate holdoutDate,
    long eventsVersion,
    List<String> features,
    List<String> featureTypes,
    List<String> categoricalFeatures,
    Map<String, String> params,
    int numRounds,
    int bestIteration,
    long trainRows,
    long holdoutRows,
    long holdoutPositives,
    double holdoutAuc,
    double holdoutLogLoss,
    double holdoutMeanScore,
    double holdoutRate,
    String artifactPath,
    String nightscoreVersion,
    String xgboostVersion,
    String config,
    String recipe,
    Calibration calibration,
    List<Double> trainCurve,
    List<Double> tuneCurve,
    Map<String, Double> featureGain,
    String reportPath,
    String codeVersion,
    String configSha256,
    String schemaSha256,
    Map<String, String> artifactSha256) {

  public static final StructType SCHEMA = new StructType()
      .add("version", DataTypes.LongType, false)
      .add("created_at", DataTypes.TimestampType, false)
      .add("train_start", DataTypes.DateType, false)
      .add("train_end", DataTypes.DateType, false)
      .add("holdout_date", DataTypes.DateType, false)
      .add("events_version", DataTypes.LongType, false)
      .add("features", DataTypes.createArrayType(DataTypes.StringType, false), false)
      .add("feature_types", DataTypes.createArrayType(DataTypes.StringType, false), false)
      .add("categorical_features", DataTypes.createArrayType(DataTypes.StringType, false), false)
      .add("params", DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType, false), false)
      .add("num_rounds", DataTypes.IntegerType, false)
      .add("best_iteration", DataTypes.IntegerType, false)
      .add("train_rows", DataTypes.LongType, false)
      .add("holdout_rows", DataTypes.LongType, false)
      .add("holdout_positives", DataTypes.LongType, false)
      .add("holdout_auc", DataTypes.DoubleType, true)
      .add("holdout_logloss", DataTypes.DoubleType, true)
      .add("holdout_mean_score", DataTypes.DoubleType, true)
      .add("holdout_rate", DataTypes.DoubleType, true)
      .add("artifact_path", DataTypes.StringType, false)
      .add("nightscore_version", DataTypes.StringType, false)
      .add("xgboost_version", DataTypes.StringType, false)
      .add("config", DataTypes.StringType, false)
      .add("recipe", DataTypes.StringType, false)
      .add("calibration", DataTypes.StringType, false)
      .add("negative_sampling_rate", DataTypes.DoubleType, false)
      .add("calibration_params", DataTypes.createArrayType(DataTypes.DoubleType, false), false)
      .add("train_curve", DataTypes.createArrayType(DataTypes.DoubleType, false), false)
      .add("tune_curve", DataTypes.createArrayType(DataTypes.DoubleType, false), false)
      .add("feature_gain", DataTypes.createMapType(DataTypes.StringType, DataTypes.DoubleType, false), false)
      .add("report_path", DataTypes.StringType, false)
      .add("code_version", DataTypes.StringType, false)
      .add("config_sha256", DataTypes.StringType, false)
      .add("schema_sha256", DataTypes.StringType, false)
      .add("artifact_sha256", DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType, false), false);

  /** The categorical-mode parameter the model was trained with (how score must encode categoricals). */
  public String categoricalMode() {
    return params.getOrDefault("categorical_mode", "ordinal");
  }

  public Row toRow() {
    return RowFactory.create(version, Timestamp.from(createdAt), Date.valueOf(trainStart),
        Date.valueOf(trainEnd), Date.valueOf(holdoutDate), eventsVersion,
        scala.collection.JavaConverters.asScalaBuffer(features).toSeq(),
        scala.collection.JavaConverters.asScalaBuffer(featureTypes).toSeq(),
        scala.collection.JavaConverters.asScalaBuffer(categoricalFeatures).toSeq(),
        scala.collection.JavaConverters.mapAsScalaMap(params),
        numRounds, bestIteration, trainRows, holdoutRows, holdoutPositives, holdoutAuc,
        holdoutLogLoss, holdoutMeanScore, holdoutRate, artifactPath, nightscoreVersion, xgboostVersion,
        config, recipe, calibration.method(), calibration.negativeSamplingRate(),
        scala.collection.JavaConverters.asScalaBuffer(calibration.paramList()).toSeq(),
        scala.collection.JavaConverters.asScalaBuffer(trainCurve).toSeq(),
        scala.collection.JavaConverters.asScalaBuffer(tuneCurve).toSeq(),
        scala.collection.JavaConverters.mapAsScalaMap(featureGain), reportPath, codeVersion, configSha256,
        schemaSha256, scala.collection.JavaConverters.mapAsScalaMap(artifactSha256));
  }

  public static ModelRecord fromRow(Row r) {
    return new ModelRecord(
        r.getLong(r.fieldIndex("version")),
        r.getTimestamp(r.fieldIndex("created_at")).toInstant(),
        r.getDate(r.fieldIndex("train_start")).toLocalDate(),
        r.getDate(r.fieldIndex("train_end")).toLocalDate(),
        r.getDate(r.fieldIndex("holdout_date")).toLocalDate(),
        r.getLong(r.fieldIndex("events_version")),
        new ArrayList<>(r.<String>getList(r.fieldIndex("features"))),
        new ArrayList<>(r.<String>getList(r.fieldIndex("feature_types"))),
        new ArrayList<>(r.<String>getList(r.fieldIndex("categorical_features"))),
        new TreeMap<>(r.<String, String>getJavaMap(r.fieldIndex("params"))),
        r.getInt(r.fieldIndex("num_rounds")),
        r.getInt(r.fieldIndex("best_iteration")),
        r.getLong(r.fieldIndex("train_rows")),
        r.getLong(r.fieldIndex("holdout_rows")),
        r.getLong(r.fieldIndex("holdout_positives")),
        r.getDouble(r.fieldIndex("holdout_auc")),
        r.getDouble(r.fieldIndex("holdout_logloss")),
        r.getDouble(r.fieldIndex("holdout_mean_score")),
        r.getDouble(r.fieldIndex("holdout_rate")),
        r.getString(r.fieldIndex("artifact_path")),
        r.getString(r.fieldIndex("nightscore_version")),
        r.getString(r.fieldIndex("xgboost_version")),
        r.getString(r.fieldIndex("config")),
        r.getString(r.fieldIndex("recipe")),
        new Calibration(r.getString(r.fieldIndex("calibration")), r.getDouble(r.fieldIndex("negative_sampling_rate")),
            r.<Double>getList(r.fieldIndex("calibration_params")).stream().mapToDouble(Double::doubleValue).toArray()),
        new ArrayList<>(r.<Double>getList(r.fieldIndex("train_curve"))),
        new ArrayList<>(r.<Double>getList(r.fieldIndex("tune_curve"))),
        new TreeMap<>(r.<String, Double>getJavaMap(r.fieldIndex("feature_gain"))),
        r.getString(r.fieldIndex("report_path")),
        r.getString(r.fieldIndex("code_version")),
        r.getString(r.fieldIndex("config_sha256")),
        r.getString(r.fieldIndex("schema_sha256")),
        new TreeMap<>(r.<String, String>getJavaMap(r.fieldIndex("artifact_sha256"))));
  }
}
