package io.nightscore.common.registry;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.max;

import io.nightscore.common.table.Table;
import io.nightscore.common.table.Warehouse;
import io.nightscore.model.features.CategoricalEncoding;
import io.nightscore.model.predict.ServedModel;
import io.nightscore.model.quality.Calibration;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassificationModel;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Model artifacts under {@code <warehouse>/models/run-<uuid>/} and their rows in the {@code models}
 * table. An artifact directory holds the Spark model, the native booster ({@code booster.ubj}) and the
 * categorical encoding the model was trained with.
 */
public final class ModelStore {
  private static final Logger LOG = LoggerFactory.getLogger(ModelStore.class);

  private final Warehouse warehouse;

  public ModelStore(Warehouse warehouse) {
    this.warehouse = warehouse;
  }

  /** The version the next trained model gets: one above the highest recorded. */
  public long nextVersion() {
    if (!warehouse.exists(Table.MODELS)) {
      return 1;
    }
    Row r = warehouse.read(Table.MODELS).agg(max("version")).head();
    return r.isNullAt(0) ? 1 : r.getLong(0) + 1;
  }

  /** Writes the artifacts of one training run; returns their directory. */
  public String saveArtifacts(String runId, XGBoostClassificationModel model, CategoricalEncoding encoding) {
    String dir = warehouse.modelPath(runId);
    Path booster = new Path(dir + "/booster.ubj");
    try {
      model.write().overwrite().save(dir + "/spark-model");
      FileSystem fs = booster.getFileSystem(warehouse.spark().sparkContext().hadoopConfiguration());
      try (OutputStream out = fs.create(booster, true)) {
        out.write(model.nativeBooster().toByteArray("ubj"));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write model artifacts to " + dir, e);
    } catch (ml.dmlc.xgboost4j.java.XGBoostError e) {
      throw new IllegalStateException("XGBoost could not serialise the model of run " + runId, e);
    }
    encoding.toDataFrame(warehouse.spark()).coalesce(1).write().mode("overwrite").parquet(dir + "/encoding");
    LOG.info("run {}: model artifacts written to {}", runId, dir);
    return dir;
  }

  /**
   * SHA-256 of every file the model is loaded from (Spark model, native booster, encoding), keyed by its
   * path relative to the artifact directory. Hidden and marker files ({@code .crc}, {@code _SUCCESS}) and
   * the report, which can be rebuilt, are left out.
   */
  public Map<String, String> fingerprint(String dir) {
    Map<String, String> out = new TreeMap<>();
    try {
      Path root = new Path(dir);
      FileSystem fs = root.getFileSystem(warehouse.spark().sparkContext().hadoopConfiguration());
      String prefix = fs.makeQualified(root).toUri().getPath();
      RemoteIterator<LocatedFileStatus> files = fs.listFiles(root, true);
      while (files.hasNext()) {
        Path p = files.next().getPath();
        String rel = p.toUri().getPath().substring(prefix.length() + 1);
        if (rel.startsWith("report/") || Arrays.stream(rel.split("/"))
            .anyMatch(part -> part.startsWith(".") || part.startsWith("_"))) {
          continue;
        }
        try (InputStream in = fs.open(p)) {
          out.put(rel, Digests.sha256(in));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read model artifacts under " + dir, e);
    }
    return out;
  }

  /**
   * Checks that the artifact files of a version are exactly the ones registered (same names, same SHA-256);
   * returns a description of every difference, empty when they match.
   */
  public List<String> verify(ModelRecord record) {
    Map<String, String> expected = record.artifactSha256();
    Map<String, String> actual = fingerprint(record.artifactPath());
    List<String> problems = new ArrayList<>();
    if (expected.isEmpty()) {
      problems.add("the registry holds no artifact hashes for v" + record.version());
    }
    for (Map.Entry<String, String> e : expected.entrySet()) {
      String found = actual.get(e.getKey());
      if (found == null) {
        problems.add(e.getKey() + " is missing");
      } else if (!found.equals(e.getValue())) {
        problems.add(e.getKey() + " has SHA-256 " + found + ", registered " + e.getValue());
      }
    }
    actual.keySet().stream().filter(k -> !expected.containsKey(k)).forEach(k -> problems.add(k + " is not registered"));
    return problems;
  }

  /**
   * Registers a new version: {@code build} makes the record for a candidate version number, which is
   * inserted only if no row holds that number yet (one Delta MERGE; a concurrent registration makes it
   * fail and the next number is tried). Versions are therefore unique and increasing even when retrains race.
   */
  public ModelRecord register(java.util.function.LongFunction<ModelRecord> build) {
    for (int attempt = 1; attempt <= ModelRegistry.MAX_ATTEMPTS; attempt++) {
      ModelRecord record = build.apply(nextVersion());
      Dataset<Row> row = warehouse.spark().createDataFrame(List.of(record.toRow()), ModelRecord.SCHEMA);
      try {
        if (!warehouse.exists(Table.MODELS)) {
          row.write().format("delta").mode("errorifexists").save(warehouse.path(Table.MODELS));
        } else {
          io.delta.tables.DeltaTable.forPath(warehouse.spark(), warehouse.path(Table.MODELS)).as("t")
              .merge(row.as("s"), "t.version = s.version").whenNotMatched().insertAll().execute();
        }
      } catch (RuntimeException e) {
        if (!(e instanceof java.util.ConcurrentModificationException) && !warehouse.exists(Table.MODELS)) {
          throw e;
        }
        LOG.info("version {} was taken by a concurrent registration ({}); trying the next",
            record.version(), e.getClass().getSimpleName());
        continue;
      }
      warehouse.register(Table.MODELS);
      if (get(record.version()).artifactPath().equals(record.artifactPath())) {
        new ModelRegistry(warehouse).refreshStatusAfterCommit();
        return record;
      }
    }
    throw new java.util.ConcurrentModificationException("could not register a model version after "
        + ModelRegistry.MAX_ATTEMPTS + " attempts: other registrations kept taking the next number");
  }

  /**
   * Removes the artifact folders of training runs that never registered a model (a retrain killed between
   * writing its artifacts and registering them) once their newest file is older than {@code retention}: a
   * retrain still running is never that old. Registered runs' folders are never touched. Returns the folders
   * removed.
   */
  public List<String> removeUnregistered(Duration retention, Instant now) {
    List<String> removed = new ArrayList<>();
    if (!warehouse.exists(Table.MODELS)) {
      return removed; // no registry to tell registered runs apart (a wrong warehouse?): touch nothing
    }
    Path models = new Path(warehouse.modelsRoot());
    Set<String> registered = new HashSet<>();
    for (ModelRecord r : all()) {
      registered.add(new Path(r.artifactPath()).getName());
    }
    try {
      FileSystem fs = models.getFileSystem(warehouse.spark().sparkContext().hadoopConfiguration());
      if (!fs.exists(models)) {
        return removed;
      }
      for (FileStatus run : fs.listStatus(models)) {
        String name = run.getPath().getName();
        if (!run.isDirectory() || !name.startsWith("run-") || registered.contains(name)) {
          continue;
        }
        long newest = run.getModificationTime();
        RemoteIterator<LocatedFileStatus> files = fs.listFiles(run.getPath(), true);
        while (files.hasNext()) {
          newest = Math.max(newest, files.next().getModificationTime());
        }
        if (now.minus(retention).isAfter(Instant.ofEpochMilli(newest))) {
          fs.delete(run.getPath(), true);
          removed.add(run.getPath().toString());
          LOG.info("removed the artifacts of run {}, which registered no model (last written {})", name,
              Instant.ofEpochMilli(newest));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list or remove model artifact folders under " + models, e);
    }
    return removed;
  }

  /** Every registered version, oldest first (one row per retrain: small enough to read whole). */
  public List<ModelRecord> all() {
    if (!warehouse.exists(Table.MODELS)) {
      return List.of();
    }
    return warehouse.read(Table.MODELS).orderBy("version").collectAsList().stream().map(ModelRecord::fromRow)
        .toList();
  }

  public ModelRecord get(long version) {
    List<Row> rows = warehouse.exists(Table.MODELS)
        ? warehouse.read(Table.MODELS).where(col("version").equalTo(version)).collectAsList()
        : List.of();
    if (rows.isEmpty()) {
      throw new IllegalArgumentException("model version " + version + " is not in "
          + warehouse.qualified(Table.MODELS));
    }
    return ModelRecord.fromRow(rows.get(0));
  }

  /** Loads the Spark model and encoding of a recorded version. */
  public LoadedModel load(ModelRecord record) {
    XGBoostClassificationModel model =
        XGBoostClassificationModel.read().load(record.artifactPath() + "/spark-model");
    return new LoadedModel(record, model, encoding(record));
  }

  /** The categorical encoding of a recorded version (no booster loaded). */
  public CategoricalEncoding encoding(ModelRecord record) {
    List<Row> rows = warehouse.spark().read().schema(CategoricalEncoding.SCHEMA)
        .parquet(record.artifactPath() + "/encoding").collectAsList();
    return CategoricalEncoding.fromRows(record.categoricalFeatures(), rows);
  }

  /** A model ready to score: its registry row, the Spark model and its categorical encoding. */
  public record LoadedModel(ModelRecord record, XGBoostClassificationModel model, CategoricalEncoding encoding)
      implements ServedModel {
    @Override
    public long version() {
      return record.version();
    }

    @Override
    public Calibration calibration() {
      return record.calibration();
    }
  }
}
