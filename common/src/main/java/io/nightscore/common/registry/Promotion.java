package io.nightscore.common.registry;

import io.nightscore.common.config.EventSchema;
import io.nightscore.common.config.GateSettings;
import io.nightscore.common.table.Warehouse;
import io.nightscore.model.predict.Scoring;
import io.nightscore.model.quality.BinaryMetrics;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the gate for a freshly registered version: scores the champion on the rows the new version was
 * evaluated on, judges, and moves the champion alias by a conditional commit. When another writer moves the
 * alias in between (a backfill racing the nightly run), the new version is judged again against the new
 * champion. Every outcome is recorded in {@code model_decisions}.
 */
public final class Promotion {
  private static final Logger LOG = LoggerFactory.getLogger(Promotion.class);

  /**
   * The rows both models are judged on: the holdout day's evaluation half. {@code day} is the day's bare scan,
   * which a model scores from its column batches (a filter above the scan would send it down the row path);
   * {@code evaluationHalf} picks the labelled evaluation rows from those scores, the id and label kept.
   */
  public record Holdout(LocalDate date, Dataset<Row> day, UnaryOperator<Dataset<Row>> evaluationHalf) {}

  private Promotion() {}

  public static ModelRegistry.Decision gate(Warehouse warehouse, EventSchema schema, GateSettings settings,
      ModelRecord candidate, BinaryMetrics candidateMetrics, Holdout holdout) {
    ModelStore store = new ModelStore(warehouse);
    ModelRegistry registry = new ModelRegistry(warehouse);
    Long measured = null;
    BinaryMetrics championMetrics = null;
    List<String> notes = new ArrayList<>();
    // The day the candidate is for: the day after its holdout day. The model it is compared with must not have
    // seen that day's data either, or it would look better than it is.
    LocalDate day = holdout.date().plusDays(1);
    for (int attempt = 1; attempt <= ModelRegistry.MAX_ATTEMPTS; attempt++) {
      Optional<ModelRegistry.Alias> current = registry.champion();
      Long champion = current.map(ModelRegistry.Alias::version).orElse(null);
      boolean championQualifies = champion == null || ModelRegistry.qualifiesFor(store.get(champion), day);
      Long rival = championQualifies ? champion
          : registry.modelFor(day, store).map(p -> p.model().version()).orElse(null);
      if (rival != null && !rival.equals(measured)) {
        notes.clear();
        championMetrics = measureChampion(warehouse, store, schema, rival, holdout, notes);
        measured = rival;
      }
      if (rival == null) {
        notes.clear();
        measured = null;
      }
      BinaryMetrics compared = rival == null ? null : championMetrics;
      Gate.Verdict verdict = Gate.judge(settings, candidateMetrics, compared, rival);
      List<String> reasons = new ArrayList<>(notes);
      if (rival == null) {
        reasons.add(champion == null ? "first model: judged on the absolute bounds only"
            : "no promoted or approved model qualifies for " + day + ": judged on the absolute bounds only");
      }
      if (!championQualifies) {
        reasons.add("not made champion: the champion v" + champion + " trained on days up to "
            + store.get(champion).holdoutDate() + ", not before " + day + (rival == null ? "" : "; judged against v"
            + rival + ", the model that qualifies for " + day) + ". A retrain for an earlier day does not replace a "
            + "newer champion; if it passes, it is " + ModelRegistry.APPROVED + " and scores the days the champion "
            + "trained on");
      }
      reasons.addAll(verdict.checks());
      String id = ModelRegistry.newDecisionId();
      boolean promoted = verdict.passed() && championQualifies && registry.moveChampion(champion,
          candidate.version(), ModelRegistry.historyAfterReplacing(current), id);
      if (verdict.passed() && championQualifies && !promoted) {
        LOG.info("gate v{}: the champion moved while judging (was v{}); judging again", candidate.version(), champion);
        continue;
      }
      String action = verdict.passed() && !championQualifies ? ModelRegistry.APPROVED : "gate";
      ModelRegistry.Decision decision = new ModelRegistry.Decision(id, Instant.now(), candidate.version(), action,
          promoted, champion, promoted ? Long.valueOf(candidate.version()) : champion, holdout.date(),
          candidateMetrics.auc(), candidateMetrics.logLoss(), candidateMetrics.calibrationRatio(),
          candidateMetrics.normalizedEntropy(), compared == null ? null : compared.auc(),
          compared == null ? null : compared.logLoss(), compared == null ? null : compared.calibrationRatio(), reasons,
          ModelRegistry.actor(), null);
      registry.record(decision);
      LOG.info("gate v{}: {} (champion {} -> {}); {}", candidate.version(),
          promoted ? "PROMOTED" : action.equals(ModelRegistry.APPROVED) ? "APPROVED" : "REJECTED",
          champion, decision.championAfter(), reasons);
      return decision;
    }
    throw new IllegalStateException("the champion alias moved " + ModelRegistry.MAX_ATTEMPTS + " times while v"
        + candidate.version() + " was judged; run `models promote " + candidate.version() + "` or retrain again");
  }

  /**
   * The champion's metrics on the candidate's evaluation rows, also written to {@code model_metrics} as
   * dataset "gate"; null (with a note saying why) when the champion cannot score these rows.
   */
  private static BinaryMetrics measureChampion(Warehouse warehouse, ModelStore store, EventSchema schema,
      long champion, Holdout holdout, List<String> notes) {
    ModelRecord record = store.get(champion);
    if (!record.features().equals(schema.features()) || !record.categoricalFeatures().equals(schema.categorical())) {
      notes.add("champion v" + champion + " reads other features than the current schema: judged on the absolute "
          + "bounds only");
      return null;
    }
    List<String> problems = store.verify(record);
    if (!problems.isEmpty()) {
      notes.add("champion v" + champion + " artifacts fail their SHA-256 check (" + problems
          + "): judged on the absolute bounds only");
      return null;
    }
    warehouse.spark().sparkContext().setJobDescription("gate: champion v" + champion + " on " + holdout.date());
    ModelStore.LoadedModel loaded = store.load(record);
    Dataset<Row> scored = holdout.evaluationHalf().apply(Scoring.probabilities(loaded, holdout.day(), schema,
            List.of(schema.id(), schema.label()), "_score"))
        .select(schema.label(), "_score").persist(StorageLevel.MEMORY_AND_DISK());
    try {
      BinaryMetrics metrics = BinaryMetrics.compute(scored, schema.label(), "_score");
      MetricsTable.write(warehouse, List.of(new MetricsTable.Entry(champion, "gate", holdout.date(), "model",
          metrics)));
      return metrics;
    } finally {
      scored.unpersist();
    }
  }
}
