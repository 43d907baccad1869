package io.nightscore.common.table;

import java.util.Locale;

/** The Delta tables nightscore owns, each addressable in SQL as {@code <database>.<name>}. */
public enum Table {
  /** Contract-valid events, partitioned by event date {@code dt}. */
  EVENTS,
  /** Raw rows that broke the contract, with a reason code and their raw values, partitioned by {@code dt}. */
  QUARANTINE,
  /** One probability per event and day with the model version that produced it, partitioned by {@code dt}. */
  SCORES,
  /** Scores of the newest challenger on the same days as {@code scores} (shadow scoring), partitioned by {@code dt}. */
  SCORES_SHADOW,
  /** The registry: one immutable row per model version with parameters, metrics, lineage and artifact hashes. */
  MODELS,
  /** Every promotion decision (gate, manual promote, rollback) with its reasons, numbers, actor and note. */
  MODEL_DECISIONS,
  /** Named pointers to model versions; the {@code champion} row moves by one conditional commit. */
  MODEL_ALIASES,
  /** Quality of a model version on one dataset (holdout evaluation half, a scored day), by scorer. */
  MODEL_METRICS;

  /** The SQL name of the table inside the nightscore database. */
  public String sqlName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
