package io.nightscore.common;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.max;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.List;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassificationModel;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Model artifacts under {@code <warehouse>/models/v<version>/} and their rows in the {@code models}
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

  /** Writes the artifacts of one version; returns their directory. */
  public String saveArtifacts(long version, XGBoostClassificationModel model, CategoricalEncoding encoding) {
    String dir = warehouse.modelPath(version);
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
      throw new IllegalStateException("XGBoost could not serialise model v" + version, e);
    }
    encoding.toDataFrame(warehouse.spark()).coalesce(1).write().mode("overwrite").parquet(dir + "/encoding");
    LOG.info("model v{}: artifacts written to {}", version, dir);
    return dir;
  }

  public Warehouse.Commit register(ModelRecord record) {
    Dataset<Row> row = warehouse.spark().createDataFrame(List.of(record.toRow()), ModelRecord.SCHEMA);
    return warehouse.append(row, Table.MODELS);
  }

  /** The newest model (highest version). */
  public ModelRecord latest() {
    if (!warehouse.exists(Table.MODELS)) {
      throw new IllegalStateException("no model has been trained yet (" + warehouse.qualified(Table.MODELS)
          + " does not exist): run retrain first");
    }
    List<Row> rows = warehouse.read(Table.MODELS).orderBy(col("version").desc()).limit(1).collectAsList();
    if (rows.isEmpty()) {
      throw new IllegalStateException(warehouse.qualified(Table.MODELS) + " is empty: run retrain first");
    }
    return ModelRecord.fromRow(rows.get(0));
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
    List<String> categorical = record.categoricalFeatures();
    List<Row> rows = warehouse.spark().read().schema(CategoricalEncoding.SCHEMA)
        .parquet(record.artifactPath() + "/encoding").collectAsList();
    return new LoadedModel(record, model, CategoricalEncoding.fromRows(categorical, rows));
  }

  /** A model ready to score: its registry row, the Spark model and its categorical encoding. */
  public record LoadedModel(ModelRecord record, XGBoostClassificationModel model, CategoricalEncoding encoding) {}
}
