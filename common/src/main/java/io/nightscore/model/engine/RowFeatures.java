package io.nightscore.model.engine;

import io.nightscore.common.config.EventSchema;
import io.nightscore.model.features.CategoricalEncoding;
import java.io.Serializable;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.execution.datasources.parquet.ParquetDictionary;
import org.apache.spark.sql.execution.vectorized.WritableColumnVector;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import org.apache.spark.unsafe.types.UTF8String;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Features#assemble}'s model inputs computed in plain Java from a row of raw event columns: numeric
 * values cast to float, categorical values looked up in the encoding (its target rate, or its index), missing
 * values NaN. Same encoding object, same float values as the Spark expressions, for CPU code (prediction, the
 * training input) that reads Spark's internal rows itself (one hash lookup per categorical, no join per
 * feature in the plan).
 * Reads either a row ({@link #encode}) or a column batch straight from a columnar scan ({@link #columns}).
 * Training rows ({@link #training}) get the out-of-fold target rate of the fold a row belongs to, as
 * {@link Features#assembleTraining} gives them. Built on the driver; the lookup tables are built again on
 * first use in each task.
 */
public final class RowFeatures implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(RowFeatures.class);

  private enum Kind { BYTE, SHORT, INT, LONG, FLOAT, DOUBLE, CATEGORICAL }

  private final Kind[] kinds;
  /**
   * Per categorical position: the vocabulary in index order, and the model input of each index (last = rare)
   * in each fold, at {@code index * folds + fold}.
   */
  private final String[][] values;
  private final float[][] inputs;
  private final int folds;
  private transient Map<UTF8String, Integer>[] lookup;

  private RowFeatures(Kind[] kinds, String[][] values, float[][] inputs, int folds) {
    this.kinds = kinds;
    this.values = values;
    this.inputs = inputs;
    this.folds = folds;
  }

  /**
   * The encoder of {@code features} (model order) as {@code rows} types them, or null when a column's type is
   * one this class does not convert (then use {@link Features#assemble}).
   */
  public static RowFeatures of(StructType rows, List<String> features, EventSchema schema,
      CategoricalEncoding encoding) {
    return of(rows, features, schema, encoding, encoding::modelInputs, 1);
  }

  /**
   * The encoder of training rows: each categorical value becomes the out-of-fold target rate of the row's
   * fold ({@link #encode(InternalRow, int, float[], int, int)}), as {@link Features#assembleTraining} computes
   * it; null as for {@link #of}.
   */
  public static RowFeatures training(StructType rows, List<String> features, EventSchema schema,
      CategoricalEncoding.TargetFit target) {
    return of(rows, features, schema, target.encoding(), f -> {
      double[] rates = target.outOfFold().get(f);
      float[] inputs = new float[rates.length];
      for (int i = 0; i < rates.length; i++) {
        inputs[i] = (float) rates[i];
      }
      return inputs;
    }, target.folds());
  }

  private static RowFeatures of(StructType rows, List<String> features, EventSchema schema,
      CategoricalEncoding encoding, java.util.function.Function<String, float[]> inputsOf, int folds) {
    Kind[] kinds = new Kind[features.size()];
    String[][] values = new String[features.size()][];
    float[][] inputs = new float[features.size()][];
    for (int j = 0; j < features.size(); j++) {
      String f = features.get(j);
      DataType t = rows.apply(f).dataType();
      if (schema.categorical().contains(f)) {
        if (!t.equals(DataTypes.StringType)) {
          return null;
        }
        kinds[j] = Kind.CATEGORICAL;
        values[j] = encoding.values(f).toArray(new String[0]);
        inputs[j] = inputsOf.apply(f);
      } else {
        kinds[j] = t.equals(DataTypes.ByteType) ? Kind.BYTE : t.equals(DataTypes.ShortType) ? Kind.SHORT
            : t.equals(DataTypes.IntegerType) ? Kind.INT : t.equals(DataTypes.LongType) ? Kind.LONG
            : t.equals(DataTypes.FloatType) ? Kind.FLOAT : t.equals(DataTypes.DoubleType) ? Kind.DOUBLE : null;
        if (kinds[j] == null) {
          return null;
        }
      }
    }
    return new RowFeatures(kinds, values, inputs, folds);
  }

  /** Number of features (the width of one row of the model matrix). */
  public int width() {
    return kinds.length;
  }

  /**
   * Writes the model inputs of {@code row}'s features, which start at ordinal {@code first}, into
   * {@code out[base .. base + width)}.
   */
  public void encode(InternalRow row, int first, float[] out, int base) {
    encode(row, first, out, base, 0);
  }

  /** As {@link #encode(InternalRow, int, float[], int)} for a training row of fold {@code fold}. */
  public void encode(InternalRow row, int first, float[] out, int base, int fold) {
    if (fold < 0 || fold >= folds) {
      throw new IllegalArgumentException("fold " + fold + " outside [0, " + folds + ")");
    }
    Map<UTF8String, Integer>[] maps = tables();
    for (int j = 0; j < kinds.length; j++) {
      int k = first + j;
      if (row.isNullAt(k)) {
        out[base + j] = Float.NaN;
        continue;
      }
      out[base + j] = switch (kinds[j]) {
        case BYTE -> row.getByte(k);
        case SHORT -> row.getShort(k);
        case INT -> row.getInt(k);
        case LONG -> row.getLong(k);
        case FLOAT -> row.getFloat(k);
        case DOUBLE -> (float) row.getDouble(k);
        case CATEGORICAL -> {
          Integer hit = maps[j].get(row.getUTF8String(k));
          yield inputs[j][(hit != null ? hit : values[j].length) * folds + fold];
        }
      };
    }
  }

  /** A columnar encoder for batches whose column {@code ordinals[j]} holds feature j; one per task. */
  public Columns columns(int[] ordinals) {
    if (ordinals.length != kinds.length) {
      throw new IllegalArgumentException(ordinals.length + " column ordinals for " + kinds.length + " features");
    }
    return new Columns(ordinals.clone());
  }

  /**
   * {@link #encode}'s model inputs for every row of a column batch at once, one column at a time. A string column
   * the Parquet reader left dictionary-encoded is looked up once per dictionary entry, not once per row: the
   * memo of entries lasts as long as the reader's dictionary (a row group's column chunk has one), or one batch
   * where that dictionary cannot be told apart from the next ({@link #dictionaryOf}). Not thread-safe: it keeps
   * those memos.
   */
  public final class Columns {
    private final int[] ordinals;
    /**
     * Per categorical position and dictionary id: the vocabulary index (values.length = rare), and the epoch it
     * was looked up in; per position, the current epoch and the dictionary it belongs to (null: unknown).
     */
    private final int[][] memo = new int[kinds.length][];
    private final int[][] memoEpoch = new int[kinds.length][];
    private final int[] epoch = new int[kinds.length];
    private final Object[] dictionary = new Object[kinds.length];

    private Columns(int[] ordinals) {
      this.ordinals = ordinals;
    }

    /** Writes row i's inputs of {@code in} to {@code out[i * width .. (i + 1) * width)}. */
    public void encode(ColumnarBatch in, float[] out) {
      if (folds != 1) {
        throw new IllegalStateException("training rows of " + folds + " folds: pass each row's fold");
      }
      encode(in, out, null);
    }

    /**
     * As {@link #encode(ColumnarBatch, float[])} for training rows: row i's categorical inputs are those of fold
     * {@code folds[i]} ({@link #encode(InternalRow, int, float[], int, int)}); null means fold 0 for every row.
     */
    public void encode(ColumnarBatch in, float[] out, int[] rowFolds) {
      Map<UTF8String, Integer>[] maps = tables();
      int rows = in.numRows();
      if (rowFolds != null) {
        for (int i = 0; i < rows; i++) {
          if (rowFolds[i] < 0 || rowFolds[i] >= folds) {
            throw new IllegalArgumentException("fold " + rowFolds[i] + " outside [0, " + folds + ")");
          }
        }
      }
      int w = kinds.length;
      for (int j = 0; j < w; j++) {
        ColumnVector v = in.column(ordinals[j]);
        Kind kind = kinds[j];
        if (kind == Kind.CATEGORICAL) {
          categorical(v, j, rows, maps[j], out, rowFolds);
          continue;
        }
        boolean nulls = v.hasNull();
        for (int i = 0; i < rows; i++) {
          out[i * w + j] = nulls && v.isNullAt(i) ? Float.NaN : number(v, i, kind);
        }
      }
    }

    private static float number(ColumnVector v, int i, Kind kind) {
      return switch (kind) {
        case BYTE -> v.getByte(i);
        case SHORT -> v.getShort(i);
        case INT -> v.getInt(i);
        case LONG -> v.getLong(i);
        case FLOAT -> v.getFloat(i);
        case DOUBLE -> (float) v.getDouble(i);
        case CATEGORICAL -> throw new IllegalArgumentException("a categorical column is not a number");
      };
    }

    private void categorical(ColumnVector v, int j, int rows, Map<UTF8String, Integer> map, float[] out,
        int[] rowFolds) {
      int w = kinds.length;
      int rare = values[j].length;
      float[] in = inputs[j];
      boolean nulls = v.hasNull();
      boolean dictionary = v instanceof WritableColumnVector d && d.hasDictionary();
      WritableColumnVector ids = dictionary ? ((WritableColumnVector) v).getDictionaryIds() : null;
      if (dictionary) {
        Object current = dictionaryOf((WritableColumnVector) v);
        if (current == null || current != this.dictionary[j]) {
          epoch[j]++;
          this.dictionary[j] = current;
        }
      }
      int now = epoch[j];
      for (int i = 0; i < rows; i++) {
        if (nulls && v.isNullAt(i)) {
          out[i * w + j] = Float.NaN;
          continue;
        }
        int index;
        if (dictionary) {
          int id = ids.getInt(i);
          if (memoEpoch[j] == null || id >= memoEpoch[j].length) {
            grow(j, id);
          }
          if (memoEpoch[j][id] != now) {
            Integer hit = map.get(v.getUTF8String(i));
            memo[j][id] = hit != null ? hit : rare;
            memoEpoch[j][id] = now;
          }
          index = memo[j][id];
        } else {
          Integer hit = map.get(v.getUTF8String(i));
          index = hit != null ? hit : rare;
        }
        out[i * w + j] = in[index * folds + (rowFolds == null ? 0 : rowFolds[i])];
      }
    }

    private void grow(int j, int id) {
      int size = Math.max(id + 1, memoEpoch[j] == null ? 256 : memoEpoch[j].length * 2);
      memo[j] = memo[j] == null ? new int[size] : java.util.Arrays.copyOf(memo[j], size);
      memoEpoch[j] = memoEpoch[j] == null ? new int[size] : java.util.Arrays.copyOf(memoEpoch[j], size);
    }
  }

  /**
   * The dictionary a column vector's ids index, as long as the Parquet reader keeps using it: the reader wraps its
   * column chunk's dictionary in a new {@code ParquetDictionary} for every batch, so the identity that lasts is
   * the chunk's own (Parquet's) dictionary inside. Held by the memo, so no later dictionary can be the same
   * object. Null when it cannot be read (another reader's dictionary, another Spark version's fields): then
   * every batch is taken to have a new dictionary. Reads two non-public fields of Spark 3.5.
   */
  static Object dictionaryOf(WritableColumnVector v) {
    if (VECTOR_DICTIONARY == null || PARQUET_DICTIONARY == null) {
      return null;
    }
    try {
      Object wrapper = VECTOR_DICTIONARY.get(v);
      return wrapper instanceof ParquetDictionary ? PARQUET_DICTIONARY.get(wrapper) : null;
    } catch (IllegalAccessException e) {
      return null;
    }
  }

  private static final java.lang.reflect.Field VECTOR_DICTIONARY = field(WritableColumnVector.class, "dictionary");
  private static final java.lang.reflect.Field PARQUET_DICTIONARY = field(ParquetDictionary.class, "dictionary");

  /**
   * A non-public field made readable, or null (logged once per field and JVM: the encoder still encodes the same
   * values, with a memo that lasts one batch, so an upgrade that moves the field shows in the log, not the data).
   */
  static java.lang.reflect.Field field(Class<?> owner, String name) {
    try {
      java.lang.reflect.Field f = owner.getDeclaredField(name);
      f.setAccessible(true);
      return f;
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warn("cannot read {}.{} ({}): dictionary-encoded strings are looked up once per batch instead of once"
          + " per row group", owner.getName(), name, e.toString());
      return null;
    }
  }

  /** One value-to-index map per categorical position (null elsewhere), built once per deserialised copy (task). */
  @SuppressWarnings("unchecked")
  private Map<UTF8String, Integer>[] tables() {
    Map<UTF8String, Integer>[] maps = lookup;
    if (maps == null) {
      maps = new Map[kinds.length];
      for (int j = 0; j < kinds.length; j++) {
        if (kinds[j] == Kind.CATEGORICAL) {
          maps[j] = new HashMap<>();
          for (int i = 0; i < values[j].length; i++) {
            maps[j].put(UTF8String.fromString(values[j][i]), i);
          }
        }
      }
      lookup = maps;
    }
    return maps;
  }
}
