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
  MODEL_METRICS,
  /** Every registered version's status (champion, challenger, ...), rewritten by the registry with each decision. */
  MODEL_STATUS,
  /** Labels that arrived after their events (ingest-labels), partitioned by the day they arrived, {@code arrived}. */
  LABELS,
  /** Label rows that broke the contract, with a reason code and their raw values, partitioned by {@code arrived}. */
  LABEL_QUARANTINE,
  /** Drift of one day's inputs and scores against the model's training baseline (monitor), partitioned by {@code dt}. */
  MONITOR_DRIFT,
  /** Realized quality of a scored day once labels arrive (monitor), partitioned by {@code dt}. */
  MONITOR_QUALITY,
  /** The nightly invariants {@code check} verified, one row per day and invariant, partitioned by {@code dt}. */
  CHECK_RESULTS;

  /** The column a table is partitioned by (one value per nightly run), or null for the registry's tables. */
  public String partitionColumn() {
    return switch (this) {
      case EVENTS, QUARANTINE, SCORES, SCORES_SHADOW, MONITOR_DRIFT, MONITOR_QUALITY, CHECK_RESULTS -> "dt";
      case LABELS, LABEL_QUARANTINE -> "arrived";
      default -> null;
    };
  }

  /**
   * Whether a write may add columns to an older table (Delta's {@code mergeSchema}): tables whose rows gained a
   * column after their first release, so a warehouse written by an older nightscore keeps working.
   */
  public boolean addsColumns() {
    return this == CHECK_RESULTS;
  }

  /** The SQL name of the table inside the nightscore database. */
  public String sqlName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
