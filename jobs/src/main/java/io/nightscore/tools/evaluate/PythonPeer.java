package io.nightscore.tools.evaluate;

import static org.apache.spark.sql.functions.col;

import io.nightscore.common.config.EventSchema;
import io.nightscore.common.config.Settings;
import io.nightscore.common.registry.ModelRecord;
import io.nightscore.common.sql.JobFailedException;
import io.nightscore.common.table.Table;
import io.nightscore.common.table.TextFiles;
import io.nightscore.common.table.Warehouse;
import io.nightscore.jobs.retrain.RetrainJob;
import java.io.IOException;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Runs the single-node peer ({@code bin/peer_xgboost.py}, Python XGBoost) on exactly the rows a model
 * version was trained, tuned and scored on, and returns its probabilities for the scored day.
 */
final class PythonPeer {
  private PythonPeer() {}

  /** Exports the splits to {@code dir}, runs the script, and returns (id, p) for {@code scoredDate}. */
  static Dataset<Row> run(SparkSession spark, Warehouse warehouse, Settings settings, ModelRecord model,
      LocalDate scoredDate, String python, String script, String dir) {
    EventSchema schema = settings.schema();
    List<Column> cols = new ArrayList<>();
    cols.add(col(schema.id()));
    cols.add(col(schema.label()));
    schema.numeric().forEach(c -> cols.add(col(c)));
    schema.categorical().forEach(c -> cols.add(col(c)));
    Column[] select = cols.toArray(new Column[0]);
    Dataset<Row> atTraining = warehouse.readAt(Table.EVENTS, model.eventsVersion());
    Dataset<Row> train = atTraining.where(col("dt").between(java.sql.Date.valueOf(model.trainStart()),
        java.sql.Date.valueOf(model.trainEnd())));
    Dataset<Row> tune = warehouse.dayAt(Table.EVENTS, model.eventsVersion(), model.holdoutDate())
        .where(RetrainJob.tuneRow(settings, schema));
    Dataset<Row> scored = warehouse.day(Table.EVENTS, scoredDate);
    spark.sparkContext().setJobDescription("evaluate: export the peer's data to " + dir);
    train.select(select).write().mode("overwrite").option("header", "true").csv(dir + "/train");
    tune.select(select).write().mode("overwrite").option("header", "true").csv(dir + "/tune");
    scored.select(select).write().mode("overwrite").option("header", "true").csv(dir + "/scored");
    writeColumns(spark, dir, schema);

    java.net.URI uri = new Path(dir).toUri();
    if (uri.getScheme() != null && !uri.getScheme().equals("file")) {
      throw new IllegalArgumentException("--peer runs Python on this machine and needs a local warehouse, got " + dir);
    }
    String local = uri.getPath();
    int threads = spark.sparkContext().defaultParallelism();
    ProcessBuilder pb = new ProcessBuilder(python, script, local, String.valueOf(threads));
    pb.redirectOutput(ProcessBuilder.Redirect.to(new java.io.File(local, "peer.log")));
    pb.redirectErrorStream(true);
    try {
      Process p = pb.start();
      if (!p.waitFor(6, TimeUnit.HOURS) || p.exitValue() != 0) {
        throw new JobFailedException("the Python peer (" + python + " " + script + ") failed; see " + dir
            + "/peer.log. It needs Debian's python3-xgboost and python3-pandas (apt-get install python3-xgboost "
            + "python3-pandas).");
      }
    } catch (IOException e) {
      throw new JobFailedException("cannot start the Python peer '" + python + "': " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new JobFailedException("interrupted while the Python peer ran");
    }
    return spark.read().option("header", "true").schema("id STRING, p DOUBLE").csv(dir + "/pred_scored.csv")
        .withColumnRenamed("id", schema.id());
  }

  private static void writeColumns(SparkSession spark, String dir, EventSchema schema) {
    String text = "id\t" + schema.id() + "\nlabel\t" + schema.label() + "\nnumeric\t"
        + String.join(",", schema.numeric()) + "\ncategorical\t" + String.join(",", schema.categorical()) + "\n";
    TextFiles.write(spark, dir + "/columns.txt", text);
  }
}
