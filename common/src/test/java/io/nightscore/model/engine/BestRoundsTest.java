package io.nightscore.model.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassificationModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/** The model kept after early stopping predicts exactly as the trained booster does with its first rounds. */
@Execution(ExecutionMode.CONCURRENT)
class BestRoundsTest {
  private static final int ROWS = 600;
  private static final int FEATURES = 5;

  /** Seeded rows with a few NaNs, and a label that depends on two of the features. */
  private static float[] matrix(long seed) {
    Random rnd = new Random(seed);
    float[] m = new float[ROWS * FEATURES];
    for (int i = 0; i < m.length; i++) {
      m[i] = rnd.nextInt(17) == 0 ? Float.NaN : (float) rnd.nextGaussian();
    }
    return m;
  }

  private static Booster trained(String booster, int rounds) throws Exception {
    float[] x = matrix(3);
    float[] y = new float[ROWS];
    Random rnd = new Random(4);
    for (int i = 0; i < ROWS; i++) {
      float a = Float.isNaN(x[i * FEATURES]) ? 0 : x[i * FEATURES];
      y[i] = rnd.nextDouble() < 1 / (1 + Math.exp(-(a - x[i * FEATURES + 1]))) ? 1 : 0;
    }
    DMatrix train = new DMatrix(x, ROWS, FEATURES, Float.NaN);
    train.setLabel(y);
    Map<String, Object> params = new HashMap<>(Map.of("objective", "binary:logistic", "max_depth", 3, "eta", 0.5,
        "nthread", 1, "seed", 5, "booster", booster));
    if (booster.equals("dart")) {
      params.put("rate_drop", 0.3);
    }
    return XGBoost.train(train, params, rounds, Map.of(), null, null);
  }

  /**
   * The booster in a model, as xgboost4j-spark wraps it. The Scala wrapper disposes the native booster when it is
   * garbage-collected: a test that goes on using {@code booster} keeps the model reachable until then.
   */
  private static XGBoostClassificationModel model(Booster booster) {
    return new XGBoostClassificationModel("m", 2, new ml.dmlc.xgboost4j.scala.Booster(booster), scala.Option.empty());
  }

  private static float[] predict(Booster booster, int[] iterations) throws Exception {
    float[][] p = iterations == null ? booster.inplace_predict(matrix(9), ROWS, FEATURES, Float.NaN)
        : booster.inplace_predict(matrix(9), ROWS, FEATURES, Float.NaN, iterations);
    float[] out = new float[ROWS];
    for (int i = 0; i < ROWS; i++) {
      out[i] = p[i][0];
    }
    return out;
  }

  @Test
  void theKeptModelIsTheTrainedBoostersFirstRoundsBitForBit() throws Exception {
    Booster full = trained("gbtree", 12);
    XGBoostClassificationModel trained = model(full);
    XGBoostClassificationModel kept = BestRounds.keep(trained, 4);

    assertThat(kept.nativeBooster().getNumBoostedRound()).as("rounds 0..4").isEqualTo(5);
    float[] best = predict(kept.nativeBooster().booster(), null);
    assertThat(best).as("the kept booster = the full one predicting with rounds [0, 5)")
        .containsExactly(predict(full, new int[] {0, 5}));
    assertThat(best).as("and not the full booster's every round").isNotEqualTo(predict(full, null));
    assertThat(kept.nativeBooster().booster().getFeatureNames()).isEqualTo(full.getFeatureNames());
    java.lang.ref.Reference.reachabilityFence(trained);
  }

  @Test
  void dropoutKeepsTheWeightsOfItsFirstRounds() throws Exception {
    Booster full = trained("dart", 10);
    XGBoostClassificationModel trained = model(full);
    XGBoostClassificationModel kept = BestRounds.keep(trained, 6);

    assertThat(kept.nativeBooster().getNumBoostedRound()).isEqualTo(7);
    assertThat(predict(kept.nativeBooster().booster(), null)).containsExactly(predict(full, new int[] {0, 7}));
    java.lang.ref.Reference.reachabilityFence(trained);
  }

  @Test
  void aModelWhoseBestRoundIsItsLastIsKeptAsItIs() throws Exception {
    XGBoostClassificationModel m = model(trained("gbtree", 6));
    assertThat(BestRounds.keep(m, 5)).isSameAs(m);
    assertThatThrownBy(() -> BestRounds.keep(m, 6)).hasMessageContaining("best iteration 6 of a booster of 6 rounds");
  }

  @Test
  void theKeptModelKeepsTheEstimatorsParameters() throws Exception {
    XGBoostClassificationModel m = model(trained("gbtree", 8));
    m.setProbabilityCol("p_custom");
    assertThat(BestRounds.keep(m, 2).getProbabilityCol()).isEqualTo("p_custom");
  }
}
