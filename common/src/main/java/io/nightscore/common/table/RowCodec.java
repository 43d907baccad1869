package io.nightscore.common.table;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.sql.Date;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.collection.JavaConverters;

/**
 * A record stored as one table row, declared once: for each record component, in order, the columns it is stored
 * in and how its value is written and read. The table's schema, {@link #toRow} and {@link #fromRow} all come from
 * that one list, so a column cannot be added to one and forgotten in another.
 */
public final class RowCodec<T extends Record> {
  /** One record component: its columns, its value as their values, and its value read back from a row. */
  public record Field<T>(List<StructField> columns, Function<T, List<Object>> write, Function<Row, Object> read) {}

  private final Constructor<T> constructor;
  private final List<Field<T>> fields;
  private final StructType schema;

  private RowCodec(Class<T> type, List<Field<T>> fields) {
    RecordComponent[] components = type.getRecordComponents();
    if (components.length != fields.size()) {
      throw new IllegalArgumentException(type.getSimpleName() + " has " + components.length + " components but "
          + fields.size() + " fields are declared: declare one field per component, in order");
    }
    try {
      this.constructor = type.getDeclaredConstructor(
          Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new));
    } catch (NoSuchMethodException e) {
      throw new IllegalStateException("no canonical constructor on " + type, e);
    }
    this.fields = List.copyOf(fields);
    this.schema = new StructType(fields.stream().flatMap(f -> f.columns().stream()).toArray(StructField[]::new));
  }

  @SafeVarargs
  public static <T extends Record> RowCodec<T> of(Class<T> type, Field<T>... fields) {
    return new RowCodec<>(type, List.of(fields));
  }

  public StructType schema() {
    return schema;
  }

  public Row toRow(T value) {
    List<Object> values = new ArrayList<>(schema.size());
    for (Field<T> f : fields) {
      values.addAll(f.write().apply(value));
    }
    return RowFactory.create(values.toArray());
  }

  public T fromRow(Row row) {
    Object[] args = fields.stream().map(f -> f.read().apply(row)).toArray();
    try {
      return constructor.newInstance(args);
    } catch (InstantiationException | IllegalAccessException | InvocationTargetException e) {
      throw new IllegalStateException("cannot read a " + constructor.getDeclaringClass().getSimpleName()
          + " from " + row, e);
    }
  }

  private static StructField column(String name, DataType type, boolean nullable) {
    return new StructField(name, type, nullable, Metadata.empty());
  }

  /** One column holding the value as it is ({@code get} returns a value Spark stores as {@code type}). */
  private static <T, V> Field<T> single(String name, DataType type, boolean nullable, Function<T, Object> get,
      Function<Object, V> read) {
    return new Field<>(List.of(column(name, type, nullable)), t -> java.util.Collections.singletonList(get.apply(t)),
        r -> {
          Object v = r.get(r.fieldIndex(name));
          return v == null ? null : read.apply(v);
        });
  }

  public static <T> Field<T> longCol(String name, boolean nullable, Function<T, Long> get) {
    return single(name, DataTypes.LongType, nullable, get::apply, v -> (Long) v);
  }

  public static <T> Field<T> intCol(String name, Function<T, Integer> get) {
    return single(name, DataTypes.IntegerType, false, get::apply, v -> (Integer) v);
  }

  public static <T> Field<T> doubleCol(String name, boolean nullable, Function<T, Double> get) {
    return single(name, DataTypes.DoubleType, nullable, get::apply, v -> (Double) v);
  }

  public static <T> Field<T> booleanCol(String name, Function<T, Boolean> get) {
    return single(name, DataTypes.BooleanType, false, get::apply, v -> (Boolean) v);
  }

  public static <T> Field<T> stringCol(String name, boolean nullable, Function<T, String> get) {
    return single(name, DataTypes.StringType, nullable, get::apply, v -> (String) v);
  }

  public static <T> Field<T> timestampCol(String name, Function<T, Instant> get) {
    return single(name, DataTypes.TimestampType, false, t -> Timestamp.from(get.apply(t)),
        v -> ((Timestamp) v).toInstant());
  }

  public static <T> Field<T> dateCol(String name, boolean nullable, Function<T, LocalDate> get) {
    return single(name, DataTypes.DateType, nullable, t -> {
      LocalDate d = get.apply(t);
      return d == null ? null : Date.valueOf(d);
    }, v -> ((Date) v).toLocalDate());
  }

  /** An array column of non-null elements of {@code element}, read back as a mutable list. */
  public static <T, E> Field<T> listCol(String name, DataType element, Function<T, List<E>> get) {
    return single(name, DataTypes.createArrayType(element, false), false,
        t -> JavaConverters.asScalaBuffer(get.apply(t)).toSeq(),
        v -> new ArrayList<>(JavaConverters.seqAsJavaList((scala.collection.Seq<E>) v)));
  }

  /** A map column of string keys and non-null values of {@code value}, read back as a sorted map. */
  public static <T, V> Field<T> mapCol(String name, DataType value, Function<T, Map<String, V>> get) {
    return single(name, DataTypes.createMapType(DataTypes.StringType, value, false), false,
        t -> JavaConverters.mapAsScalaMap(get.apply(t)),
        v -> new TreeMap<>(JavaConverters.mapAsJavaMap((scala.collection.Map<String, V>) v)));
  }
}
