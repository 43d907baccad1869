package io.nightscore.common.registry;

import static io.nightscore.common.table.RowCodec.dateCol;
import static io.nightscore.common.table.RowCodec.doubleCol;
import static io.nightscore.common.table.RowCodec.intCol;
import static io.nightscore.common.table.RowCodec.listCol;
import static io.nightscore.common.table.RowCodec.longCol;
import static io.nightscore.common.table.RowCodec.mapCol;
import static io.nightscore.common.table.RowCodec.stringCol;
import static io.nightscore.common.table.RowCodec.timestampCol;

import io.nightscore.common.table.RowCodec;
import io.nightscore.model.quality.Calibration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
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

  private static final RowCodec<ModelRecord> CODEC = RowCodec.of(ModelRecord.class,
      longCol("version", false, ModelRecord::version),
      timestampCol("created_at", ModelRecord::createdAt),
      dateCol("train_start", false, ModelRecord::trainStart),
      dateCol("train_end", false, ModelRecord::trainEnd),
      dateCol("holdout_date", false, ModelRecord::holdoutDate),
      longCol("events_version", false, ModelRecord::eventsVersion),
      listCol("features", DataTypes.StringType, ModelRecord::features),
      listCol("feature_types", DataTypes.StringType, ModelRecord::featureTypes),
      listCol("categorical_features", DataTypes.StringType, ModelRecord::categoricalFeatures),
      mapCol("params", DataTypes.StringType, ModelRecord::params),
      intCol("num_rounds", ModelRecord::numRounds),
      intCol("best_iteration", ModelRecord::bestIteration),
      longCol("train_rows", false, ModelRecord::trainRows),
      longCol("holdout_rows", false, ModelRecord::holdoutRows),
      longCol("holdout_positives", false, ModelRecord::holdoutPositives),
      doubleCol("holdout_auc", true, ModelRecord::holdoutAuc),
      doubleCol("holdout_logloss", true, ModelRecord::holdoutLogLoss),
      doubleCol("holdout_mean_score", true, ModelRecord::holdoutMeanScore),
      doubleCol("holdout_rate", true, ModelRecord::holdoutRate),
      stringCol("artifact_path", false, ModelRecord::artifactPath),
      stringCol("nightscore_version", false, ModelRecord::nightscoreVersion),
      stringCol("xgboost_version", false, ModelRecord::xgboostVersion),
      stringCol("config", false, ModelRecord::config),
      stringCol("recipe", false, ModelRecord::recipe),
      calibrationColumns(),
      listCol("train_curve", DataTypes.DoubleType, ModelRecord::trainCurve),
      listCol("tune_curve", DataTypes.DoubleType, ModelRecord::tuneCurve),
      mapCol("feature_gain", DataTypes.DoubleType, ModelRecord::featureGain),
      stringCol("report_path", false, ModelRecord::reportPath),
      stringCol("code_version", false, ModelRecord::codeVersion),
      stringCol("config_sha256", false, ModelRecord::configSha256),
      stringCol("schema_sha256", false, ModelRecord::schemaSha256),
      mapCol("artifact_sha256", DataTypes.StringType, ModelRecord::artifactSha256));

  /** The calibration in three columns: its method, the negative sampling rate it corrects for, its parameters. */
  private static RowCodec.Field<ModelRecord> calibrationColumns() {
    return new RowCodec.Field<>(List.of(
        new StructField("calibration", DataTypes.StringType, false, Metadata.empty()),
        new StructField("negative_sampling_rate", DataTypes.DoubleType, false, Metadata.empty()),
        new StructField("calibration_params", DataTypes.createArrayType(DataTypes.DoubleType, false), false,
            Metadata.empty())),
        m -> List.of(m.calibration().method(), m.calibration().negativeSamplingRate(),
            scala.collection.JavaConverters.asScalaBuffer(m.calibration().paramList()).toSeq()),
        r -> new Calibration(r.getString(r.fieldIndex("calibration")), r.getDouble(r.fieldIndex("negative_sampling_rate")),
            r.<Double>getList(r.fieldIndex("calibration_params")).stream().mapToDouble(Double::doubleValue).toArray()));
  }

  /** The models table's columns, as stored since the first version (names, order, types, nullability). */
  public static final StructType SCHEMA = CODEC.schema();

  /** The categorical-mode parameter the model was trained with (how score must encode categoricals). */
  public String categoricalMode() {
    return params.getOrDefault("categorical_mode", "ordinal");
  }

  public Row toRow() {
    return CODEC.toRow(this);
  }

  public static ModelRecord fromRow(Row r) {
    return CODEC.fromRow(r);
  }
}
