package io.nightscore.model.engine;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Map;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.java.XGBoostError;
import ml.dmlc.xgboost4j.scala.Booster;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassificationModel;
import org.apache.spark.ml.param.ParamMap;

/**
 * The model early stopping chose: the booster without the rounds trained after {@code best_iteration}. XGBoost keeps
 * them (xgboost4j-spark stops {@code early_stopping_rounds} past the best round and predicts with every tree; the JVM
 * package has no booster slicing), so without this each model would be calibrated, judged and served with ~20
 * overfitted rounds more than the tuning half picked.
 */
public final class BestRounds {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(BestRounds.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private BestRounds() {}

  /**
   * {@code model} with rounds 0..{@code bestIteration} of its booster, the same parameters and training summary;
   * {@code model} itself when it has no later rounds.
   */
  public static XGBoostClassificationModel keep(XGBoostClassificationModel model, int bestIteration) {
    try {
      ml.dmlc.xgboost4j.java.Booster booster = model.nativeBooster().booster();
      int rounds = booster.getNumBoostedRound();
      if (bestIteration < 0 || bestIteration >= rounds) {
        throw new IllegalArgumentException("best iteration " + bestIteration + " of a booster of " + rounds
            + " rounds");
      }
      if (bestIteration == rounds - 1) {
        return model;
      }
      byte[] cut = firstRounds(booster.toByteArray("json"), bestIteration + 1);
      if (cut == null) {
        LOG.warn("not a tree booster: the model keeps all {} rounds, not only rounds 0..{}", rounds,
            bestIteration);
        return model;
      }
      ml.dmlc.xgboost4j.java.Booster kept = XGBoost.loadModel(cut);
      if (kept.getNumBoostedRound() != bestIteration + 1) {
        throw new IllegalStateException("XGBoost loaded " + kept.getNumBoostedRound() + " rounds of the "
            + (bestIteration + 1) + " kept");
      }
      XGBoostClassificationModel best = new XGBoostClassificationModel(model.uid(), model.numClasses(),
          new Booster(kept), model.summary());
      model.copyValues(best, ParamMap.empty());
      if (model.hasParent()) {
        best.setParent(model.parent());
      }
      return best;
    } catch (XGBoostError | IOException e) {
      throw new IllegalStateException("cannot cut the booster to its best round " + bestIteration, e);
    }
  }

  /**
   * A tree model (gbtree, with or without dropout) in XGBoost's JSON format with only its first {@code rounds}
   * boosting rounds: the trees of those rounds ({@code iteration_indptr} says where each round's trees end), their
   * {@code tree_info} (and dropout's {@code weight_drop}), and the counts. Null for a booster without trees
   * (gblinear). Everything kept is copied
   * token by token, numbers as the text XGBoost wrote (its floats always carry an exponent, which is what makes them
   * floats to its reader), so the kept trees load back bit for bit.
   */
  static byte[] firstRounds(byte[] model, int rounds) throws IOException {
    JsonNode booster = JSON.readTree(model).path("learner").path("gradient_booster");
    if (!booster.path("name").asText().equals("gbtree")) {
      return null;
    }
    JsonNode indptr = booster.path("model").path("iteration_indptr");
    if (rounds < 1 || rounds >= indptr.size()) {
      throw new IllegalArgumentException("cannot keep " + rounds + " of " + (indptr.size() - 1) + " rounds");
    }
    int trees = indptr.get(rounds).asInt();
    String at = "/learner/gradient_booster/model";
    Map<String, Integer> sizes = Map.of(at + "/iteration_indptr", rounds + 1, at + "/trees", trees,
        at + "/tree_info", trees, at + "/weight_drop", trees);
    int fewest = java.util.Collections.min(sizes.values());
    String numTrees = at + "/gbtree_model_param/num_trees";

    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(model.length);
    try (JsonParser in = JSON.getFactory().createParser(model);
        JsonGenerator copy = JSON.getFactory().createGenerator(out)) {
      for (JsonToken t = in.nextToken(); t != null; t = in.nextToken()) {
        // The context holding this value: for the start of an object or array, the one it opens is current.
        JsonStreamContext holder = t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY
            ? in.getParsingContext().getParent() : in.getParsingContext();
        if (holder.inArray() && holder.getCurrentIndex() >= fewest && holder.getCurrentIndex()
            >= sizes.getOrDefault(holder.pathAsPointer().head().toString(), Integer.MAX_VALUE)) {
          in.skipChildren();
        } else if (t == JsonToken.VALUE_STRING && holder.pathAsPointer().toString().equals(numTrees)) {
          copy.writeString(String.valueOf(trees));
        } else if (t == JsonToken.VALUE_NUMBER_FLOAT || t == JsonToken.VALUE_NUMBER_INT) {
          copy.writeNumber(in.getText());
        } else {
          copy.copyCurrentEvent(in);
        }
      }
    }
    return out.toByteArray();
  }
}
