package io.nightscore.jobs.retrain;

import io.nightscore.common.EventSchema;
import io.nightscore.common.Features;
import io.nightscore.common.XGBoostSettings;
import java.util.HashMap;
import java.util.Map;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassificationModel;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassifier;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** Builds the XGBoost estimator from settings and fits it with early stopping on a holdout day. */
public final class Trainer {
  private Trainer() {}

  /** The estimator for a schema: one float per feature in an array column, categoricals as the mode says. */
  public static XGBoostClassifier classifier(EventSchema schema, String categoricalMode, XGBoostSettings xgb,
      boolean earlyStopping) {
    Map<String, Object> params = new HashMap<>(xgb.params());
    XGBoostClassifier clf = new XGBoostClassifier(
        scala.collection.JavaConverters.mapAsScalaMap(params).toMap(scala.Predef.$conforms()));
    for (String name : xgb.params().keySet()) {
      if (!knows(clf, name)) {
        throw new IllegalArgumentException("nightscore.xgboost.params." + name
            + " is not a parameter xgboost4j-spark knows; check the spelling against the XGBoost docs");
      }
    }
    String[] features = schema.features().toArray(new String[0]);
    // One array column, not setFeaturesCol(String[]): xgboost4j-spark 3.4's CPU transform misaligns
    // its output schema when it builds that array itself.
    clf.setFeaturesCol(Features.COLUMN);
    clf.setFeatureNames(features);
    clf.setFeatureTypes(Features.types(schema, categoricalMode));
    clf.setLabelCol(schema.label());
    clf.setNumWorkers(xgb.numWorkers());
    clf.setNumRound(xgb.numRound());
    clf.setInferBatchSize(xgb.inferBatchSize());
    clf.setMissing(Float.NaN);
    if (earlyStopping && xgb.earlyStoppingRounds() > 0) {
      clf.setNumEarlyStoppingRounds(xgb.earlyStoppingRounds());
    }
    return clf;
  }

  private static boolean knows(XGBoostClassifier clf, String name) {
    String camel = com.google.common.base.CaseFormat.LOWER_UNDERSCORE
        .to(com.google.common.base.CaseFormat.LOWER_CAMEL, name);
    return clf.hasParam(name) || clf.hasParam(camel);
  }

  /** Fits on the training rows, evaluating (and early-stopping) on the holdout rows. */
  public static XGBoostClassificationModel fit(XGBoostClassifier clf, Dataset<Row> train, Dataset<Row> holdout) {
    if (clf.getNumEarlyStoppingRounds() > 0) {
      clf.setEvalDataset(holdout);
    }
    return clf.fit(train);
  }
}
