package io.nightscore.model.predict;

import io.nightscore.model.features.CategoricalEncoding;
import io.nightscore.model.quality.Calibration;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassificationModel;

/** What scoring needs of a trained model: its version, booster, categorical encoding and calibration. */
public interface ServedModel {
  long version();

  XGBoostClassificationModel model();

  CategoricalEncoding encoding();

  Calibration calibration();
}
