package io.nightscore.common;

import java.util.Locale;

/** The Delta tables nightscore owns, each addressable in SQL as {@code <database>.<name>}. */
public enum Table {
  /** Contract-valid events, partitioned by event date {@code dt}. */
  EVENTS,
  /** Raw rows that broke the contract, with a reason code and their raw values, partitioned by {@code dt}. */
  QUARANTINE,
  /** One probability per event and day with the model version that produced it, partitioned by {@code dt}. */
  SCORES,
  /** One row per trained model: version, parameters, holdout metrics, lineage and artifact path. */
  MODELS,
  /** Quality of a model version on one dataset (holdout evaluation half, a scored day), by scorer. */
  MODEL_METRICS;

  /** The SQL name of the table inside the nightscore database. */
  public String sqlName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
