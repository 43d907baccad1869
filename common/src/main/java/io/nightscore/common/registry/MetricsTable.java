package io.nightscore.common.registry;

import static org.apache.spark.sql.functions.col;

import io.nightscore.common.sql.SqlSafety;
import io.nightscore.common.table.Table;
import io.nightscore.common.table.Warehouse;
import io.nightscore.model.quality.BinaryMetrics;
import java.sql.Date;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.collection.JavaConverters;

/**
 * The {@code model_metrics} table: one row per (model version, dataset, date, scorer) with every
 * {@link BinaryMetrics} figure, the reliability table and the ROC curve. Datasets are "holdout" (the
 * evaluation half of the holdout day) and "scored" (a scored day once its labels are in); scorers are
 * "model", "true_probability" (the Bayes limit, generated data only) or the name of a peer.
 */
public final class MetricsTable {
  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]{0,40}");

  static final StructType BIN = new StructType()
      .add("bin", DataTypes.IntegerType, false)
      .add("lower", DataTypes.DoubleType, false)
      .add("upper", DataTypes.DoubleType, false)
      .add("count", DataTypes.LongType, false)
      .add("positives", DataTypes.LongType, false)
      .add("mean_predicted", DataTypes.DoubleType, false)
      .add("observed_rate", DataTypes.DoubleType, false);
  static final StructType POINT = new StructType()
      .add("fpr", DataTypes.DoubleType, false)
      .add("tpr", DataTypes.DoubleType, false);

  public static final StructType SCHEMA = new StructType()
      .add("model_version", DataTypes.LongType, false)
      .add("dataset", DataTypes.StringType, false)
      .add("dt", DataTypes.DateType, false)
      .add("scorer", DataTypes.StringType, false)
      .add("rows", DataTypes.LongType, false)
      .add("positives", DataTypes.LongType, false)
      .add("auc", DataTypes.DoubleType, true)
      .add("pr_auc", DataTypes.DoubleType, true)
      .add("log_loss", DataTypes.DoubleType, true)
      .add("normalized_entropy", DataTypes.DoubleType, true)
      .add("calibration_ratio", DataTypes.DoubleType, true)
      .add("ece", DataTypes.DoubleType, true)
      .add("mean_score", DataTypes.DoubleType, true)
      .add("rate", DataTypes.DoubleType, true)
      .add("reliability", DataTypes.createArrayType(BIN, false), false)
      .add("roc", DataTypes.createArrayType(POINT, false), false)
      .add("computed_at", DataTypes.TimestampType, false);

  private MetricsTable() {}

  /** One measurement, keyed by model version, dataset, date and scorer. */
  public record Entry(long modelVersion, String dataset, LocalDate dt, String scorer, BinaryMetrics metrics) {
    public Entry {
      check(dataset, "dataset");
      check(scorer, "scorer");
    }
  }

  private static String check(String name, String what) {
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(what + " must match " + NAME + ", got '" + name + "'");
    }
    return name;
  }

  static Row toRow(Entry e, Instant at) {
    BinaryMetrics m = e.metrics();
    List<Row> bins = m.reliability().stream().map(b -> RowFactory.create(b.bin(), b.lower(), b.upper(), b.count(),
        b.positives(), b.meanPredicted(), b.observedRate())).toList();
    List<Row> roc = m.roc().stream().map(p -> RowFactory.create(p.fpr(), p.tpr())).toList();
    return RowFactory.create(e.modelVersion(), e.dataset(), Date.valueOf(e.dt()), e.scorer(), m.rows(),
        m.positives(), m.auc(), m.prAuc(), m.logLoss(), m.normalizedEntropy(), m.calibrationRatio(), m.ece(),
        m.meanScore(), m.rate(), JavaConverters.asScalaBuffer(bins).toSeq(),
        JavaConverters.asScalaBuffer(roc).toSeq(), Timestamp.from(at));
  }

  static BinaryMetrics fromRow(Row r) {
    List<BinaryMetrics.Bin> bins = new ArrayList<>();
    for (Row b : r.<Row>getList(r.fieldIndex("reliability"))) {
      bins.add(new BinaryMetrics.Bin(b.getInt(0), b.getDouble(1), b.getDouble(2), b.getLong(3), b.getLong(4),
          b.getDouble(5)));
    }
    List<BinaryMetrics.RocPoint> roc = new ArrayList<>();
    for (Row p : r.<Row>getList(r.fieldIndex("roc"))) {
      roc.add(new BinaryMetrics.RocPoint(p.getDouble(0), p.getDouble(1)));
    }
    return new BinaryMetrics(r.getLong(r.fieldIndex("rows")), r.getLong(r.fieldIndex("positives")),
        r.getDouble(r.fieldIndex("auc")), r.getDouble(r.fieldIndex("pr_auc")), r.getDouble(r.fieldIndex("log_loss")),
        r.getDouble(r.fieldIndex("mean_score")), r.getDouble(r.fieldIndex("rate")), bins, roc);
  }

  /** Writes measurements in one commit, replacing earlier ones with the same key. */
  public static Warehouse.Commit write(Warehouse warehouse, List<Entry> entries) {
    Instant at = Instant.now();
    List<Row> rows = entries.stream().map(e -> toRow(e, at)).toList();
    String where = String.join(" OR ", entries.stream().map(e -> String.format(Locale.ROOT,
        "(model_version = %d AND dataset = '%s' AND dt = %s AND scorer = '%s')",
        e.modelVersion(), e.dataset(), SqlSafety.dateLiteral(e.dt()), e.scorer())).toList());
    return warehouse.replace(warehouse.spark().createDataFrame(rows, SCHEMA), Table.MODEL_METRICS, where);
  }

  /** Every measurement of one model version. */
  public static List<Entry> read(Warehouse warehouse, long version) {
    List<Entry> out = new ArrayList<>();
    if (!warehouse.exists(Table.MODEL_METRICS)) {
      return out;
    }
    for (Row r : warehouse.read(Table.MODEL_METRICS).where(col("model_version").equalTo(version))
        .orderBy("dataset", "dt", "scorer").collectAsList()) {
      out.add(new Entry(version, r.getString(r.fieldIndex("dataset")), r.getDate(r.fieldIndex("dt")).toLocalDate(),
          r.getString(r.fieldIndex("scorer")), fromRow(r)));
    }
    return out;
  }
}
