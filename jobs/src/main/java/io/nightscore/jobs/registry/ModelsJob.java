package io.nightscore.jobs.registry;

import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;

import io.delta.tables.DeltaTable;
import io.nightscore.common.registry.MetricsTable;
import io.nightscore.common.registry.ModelRecord;
import io.nightscore.common.registry.ModelRegistry;
import io.nightscore.common.registry.ModelStore;
import io.nightscore.common.sql.JobFailedException;
import io.nightscore.common.sql.ResultPrinter;
import io.nightscore.common.table.Table;
import io.nightscore.common.table.Warehouse;
import java.io.PrintStream;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/** The {@code models} commands: list, show, promote, rollback and explain, over the registry tables. */
public final class ModelsJob {
  private ModelsJob() {}

  /** One line per version with its status, data window, quality on its holdout and code version. */
  public static List<Row> list(Warehouse warehouse, PrintStream out) {
    // The status SQL reads too: model_status, which the registry rewrites with every decision.
    java.util.Map<Long, ModelRegistry.Status> status = new ModelRegistry(warehouse).statuses();
    List<Row> rows = new ArrayList<>();
    for (ModelRecord m : new ModelStore(warehouse).all()) {
      // A version registered after statuses() was read is not judged yet.
      ModelRegistry.Status st = status.getOrDefault(m.version(), ModelRegistry.Status.CHALLENGER);
      rows.add(RowFactory.create(m.version(), st.name()
              .toLowerCase(Locale.ROOT), m.createdAt().toString(), m.trainStart() + ".." + m.trainEnd(),
          m.holdoutDate().toString(), m.eventsVersion(), m.recipe(), m.holdoutAuc(), m.holdoutLogLoss(),
          m.holdoutRows() == 0 ? Double.NaN : m.holdoutMeanScore() / m.holdoutRate(), shortCommit(m.codeVersion())));
    }
    ResultPrinter.table(new String[] {"version", "status", "created_at", "train_window", "holdout", "events_version",
        "recipe", "auc", "logloss", "calibration_ratio", "code"}, rows, out);
    return rows;
  }

  /** Everything the registry knows about one version: lineage, fingerprints, metrics and decisions. */
  public static ModelRecord show(Warehouse warehouse, long version, boolean withConfig, PrintStream out) {
    ModelRecord m = new ModelStore(warehouse).get(version);
    ModelRegistry registry = new ModelRegistry(warehouse);
    List<ModelRegistry.Decision> decisions = registry.decisions();
    out.printf(Locale.ROOT, "model v%d: %s%n", m.version(),
        registry.statuses().get(version).name().toLowerCase(Locale.ROOT));
    out.printf(Locale.ROOT, "  created_at          %s%n", m.createdAt());
    out.printf(Locale.ROOT, "  training window     %s .. %s, holdout %s%n", m.trainStart(), m.trainEnd(), m.holdoutDate());
    out.printf(Locale.ROOT, "  events table        %s version %d (time travel: SELECT * FROM delta.`%s` VERSION AS OF %d)%n",
        warehouse.qualified(Table.EVENTS), m.eventsVersion(), warehouse.path(Table.EVENTS), m.eventsVersion());
    out.printf(Locale.ROOT, "  recipe              %s, calibration %s%n", m.recipe(), m.calibration());
    out.printf(Locale.ROOT, "  rounds              %d (best %d)%n", m.numRounds(), m.bestIteration());
    out.printf(Locale.ROOT, "  features            %d, schema SHA-256 %s%n", m.features().size(), m.schemaSha256());
    out.printf(Locale.ROOT, "  params              %s%n", m.params());
    out.printf(Locale.ROOT, "  code                nightscore %s, commit %s, xgboost %s%n", m.nightscoreVersion(),
        m.codeVersion(), m.xgboostVersion());
    out.printf(Locale.ROOT, "  config SHA-256      %s%n", m.configSha256());
    out.printf(Locale.ROOT, "  artifacts           %s%n", m.artifactPath());
    m.artifactSha256().forEach((file, sha) -> out.printf(Locale.ROOT, "    %s  %s%n", sha, file));
    out.printf(Locale.ROOT, "  report              %s%n", m.reportPath());
    for (MetricsTable.Entry e : MetricsTable.read(warehouse, version)) {
      out.printf(Locale.ROOT, "  metrics %-8s %s %-16s rows=%d auc=%.4f logloss=%.5f ne=%.4f calibration_ratio=%.3f%n",
          e.dataset(), e.dt(), e.scorer(), e.metrics().rows(), e.metrics().auc(), e.metrics().logLoss(),
          e.metrics().normalizedEntropy(), e.metrics().calibrationRatio());
    }
    for (ModelRegistry.Decision d : decisions) {
      if (d.modelVersion() == version || (d.championBefore() != null && d.championBefore() == version
          && d.promoted() && d.championAfter() != null && d.championAfter() != version)) {
        out.println("  " + d.describe());
      }
    }
    if (withConfig) {
      out.println("  config:");
      m.config().lines().forEach(l -> out.println("    " + l));
    }
    return m;
  }

  public static ModelRegistry.Decision promote(Warehouse warehouse, long version, String reason, PrintStream out) {
    new ModelStore(warehouse).get(version);
    ModelRegistry.Decision d = new ModelRegistry(warehouse).promote(version, ModelRegistry.actor(), reason);
    out.println("models promote: " + d.describe());
    return d;
  }

  public static ModelRegistry.Decision rollback(Warehouse warehouse, String reason, PrintStream out) {
    ModelRegistry.Decision d;
    try {
      d = new ModelRegistry(warehouse).rollback(ModelRegistry.actor(), reason);
    } catch (IllegalStateException e) {
      throw new JobFailedException(e.getMessage());
    }
    out.println("models rollback: " + d.describe());
    return d;
  }

  /**
   * Explains a scored day: which model versions scored it from which events version, and for each version
   * its registry lineage, how it became champion, and whether Delta can still time-travel to its inputs.
   */
  public static List<Row> explain(Warehouse warehouse, LocalDate date, PrintStream out) {
    if (!warehouse.exists(Table.SCORES)) {
      throw new JobFailedException(warehouse.qualified(Table.SCORES) + " does not exist: nothing has been scored");
    }
    List<Row> runs = warehouse.day(Table.SCORES, date)
        .groupBy("model_version", "events_version").agg(count(lit(1)).as("rows"), min("scored_at"), max("scored_at"))
        .orderBy("model_version").collectAsList();
    if (runs.isEmpty()) {
      throw new JobFailedException(date + " has no rows in " + warehouse.qualified(Table.SCORES) + ": score it first");
    }
    long oldestEvents = DeltaTable.forPath(warehouse.spark(), warehouse.path(Table.EVENTS)).history()
        .agg(min("version")).head().getLong(0);
    ModelStore store = new ModelStore(warehouse);
    List<ModelRegistry.Decision> decisions = new ModelRegistry(warehouse).decisions();
    for (Row r : runs) {
      long v = r.getLong(0);
      long scoredEvents = r.getLong(1);
      ModelRecord m = store.get(v);
      out.printf(Locale.ROOT, "scores %s: %d rows by model v%d at %s from %s version %d%n", date, r.getLong(2), v,
          r.get(3), warehouse.qualified(Table.EVENTS), scoredEvents);
      out.printf(Locale.ROOT, "  model v%d: trained %s on %s .. %s (holdout %s) read at %s version %d; recipe %s; "
              + "commit %s; config SHA-256 %s (models show %d --config prints it)%n", v, m.createdAt(), m.trainStart(),
          m.trainEnd(), m.holdoutDate(), warehouse.qualified(Table.EVENTS), m.eventsVersion(), m.recipe(),
          m.codeVersion(), m.configSha256(), v);
      decisions.stream().filter(d -> d.promoted() && d.championAfter() != null && d.championAfter() == v)
          .forEach(d -> out.println("  became champion: " + d.describe()));
      java.util.Map<Long, String> uses = new java.util.TreeMap<>();
      uses.merge(m.eventsVersion(), "training", (a, b) -> a + " and " + b);
      uses.merge(scoredEvents, "scoring", (a, b) -> a + " and " + b);
      uses.forEach((ev, use) -> out.printf(Locale.ROOT, "  events version %d (%s): %s: SELECT * FROM delta.`%s` "
              + "VERSION AS OF %d%n", ev, use, ev >= oldestEvents ? "in the Delta history"
              : "no longer in the Delta history (oldest is " + oldestEvents + ")", warehouse.path(Table.EVENTS), ev));
    }
    return runs;
  }

  private static String shortCommit(String commit) {
    return commit.length() > 12 && !commit.equals("unknown") ? commit.substring(0, 12) + (commit.endsWith("+dirty")
        ? "+dirty" : "") : commit;
  }
}
