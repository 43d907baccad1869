package io.nightscore.model.features;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.sqrt;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nightscore.common.config.EventSchema;
import io.nightscore.testing.SparkTestBase;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

class FeaturesTest extends SparkTestBase {

  static final EventSchema SCHEMA = new EventSchema("id", "t", "y", List.of("x"), List.of("site", "geo"));
  static final StructType EVENTS = new StructType()
      .add("id", DataTypes.StringType).add("t", DataTypes.TimestampType).add("y", DataTypes.IntegerType)
      .add("x", DataTypes.DoubleType).add("site", DataTypes.StringType).add("geo", DataTypes.StringType);

  /** site: a x5, b x3, c x1, null x1; geo all null. */
  static Dataset<Row> events() {
    List<Row> rows = new ArrayList<>();
    String[] sites = {"a", "a", "a", "a", "a", "b", "b", "b", "c", null};
    for (int i = 0; i < sites.length; i++) {
      rows.add(RowFactory.create("e" + i, null, i % 2, i == 3 ? null : (double) i, sites[i], null));
    }
    return spark.createDataFrame(rows, EVENTS);
  }

  @Test
  void encodingKeepsFrequentValuesInFrequencyOrder() {
    CategoricalEncoding enc = CategoricalEncoding.fit(events(), SCHEMA.categorical(), 10, 2);
    assertEquals(List.of("a", "b"), enc.values("site"), "c occurs once, below min count 2");
    assertEquals(2, enc.rareIndex("site"));
    assertEquals(List.of(), enc.values("geo"), "all-null feature has an empty vocabulary");

    CategoricalEncoding capped = CategoricalEncoding.fit(events(), SCHEMA.categorical(), 1, 1);
    assertEquals(List.of("a"), capped.values("site"), "max-categories keeps the most frequent");
  }

  @Test
  void encodingRoundTripsThroughRows() {
    CategoricalEncoding enc = CategoricalEncoding.fit(events(), SCHEMA.categorical(), 10, 1);
    CategoricalEncoding back = CategoricalEncoding.fromRows(SCHEMA.categorical(),
        enc.toDataFrame(spark).collectAsList());
    assertEquals(enc.vocabulary(), back.vocabulary());
  }

  @Test
  void assembleMapsMissingToNaNAndUnseenToTheRareBucket() {
    CategoricalEncoding enc = CategoricalEncoding.fit(events(), SCHEMA.categorical(), 10, 2);
    Dataset<Row> scoring = spark.createDataFrame(List.of(
        RowFactory.create("s1", null, 0, 1.5, "b", "fr"),
        RowFactory.create("s2", null, 0, null, "zzz", null),
        RowFactory.create("s3", null, 0, 2.0, null, null)), EVENTS);
    List<Row> out = Features.assemble(scoring, SCHEMA, enc).orderBy("id").collectAsList();
    assertEquals(1.5f, out.get(0).<Float>getAs("x"));
    assertEquals(1.0f, out.get(0).<Float>getAs("site"), "b is index 1");
    assertEquals(0.0f, out.get(0).<Float>getAs("geo"), "geo has no vocabulary: every value is rare (index 0)");
    assertTrue(Float.isNaN(out.get(1).<Float>getAs("x")), "null numeric is NaN");
    assertEquals(2.0f, out.get(1).<Float>getAs("site"), "unseen value goes to the rare bucket");
    assertTrue(Float.isNaN(out.get(2).<Float>getAs("site")), "null categorical is NaN, not rare");
    assertThat(Features.types(SCHEMA, "native")).containsExactly("q", "c", "c");
    assertThat(Features.types(SCHEMA, "ordinal")).containsExactly("q", "q", "q");
  }

  /**
   * Labels are i % 2: site a = e0..e4 -> y 0,1,0,1,0 (2 of 5); b = e5..e7 -> 1,0,1 (2 of 3); c = e8 -> 0
   * (rare at min count 2); e9 has no site. Overall rate 5/10 = 0.5. Folds: even ids fold 0, odd fold 1.
   */
  @Test
  void targetStatisticsAreSmoothedRatesAndOutOfFoldForTraining() {
    double m = 2;
    org.apache.spark.sql.Column fold = org.apache.spark.sql.functions.substring(
        org.apache.spark.sql.functions.col("id"), 2, 1).cast("int").mod(2);
    CategoricalEncoding.TargetFit fit = CategoricalEncoding.fitWithTargetStats(events(), SCHEMA.categorical(), 10, 2,
        "y", fold, 2, m);
    double prior = 0.5;
    double[] site = fit.encoding().targetRates("site");
    assertEquals((2 + m * prior) / (5 + m), site[0], 1e-12, "a: 2 of 5, smoothed");
    assertEquals((2 + m * prior) / (3 + m), site[1], 1e-12, "b: 2 of 3, smoothed");
    assertEquals((0 + m * prior) / (1 + m), site[2], 1e-12, "the rare bucket holds c: 0 of 1");

    // a's fold 0 rows (e0, e2, e4: y 0, 0, 0) are left out for a fold-0 row: rates from e1, e3 (1, 1).
    double[] oof = fit.outOfFold().get("site");
    assertEquals((2 + m * prior) / (2 + m), oof[0], 1e-12);
    assertEquals((0 + m * prior) / (3 + m), oof[1], 1e-12, "a, fold 1: e0, e2, e4 remain");

    List<Row> train = Features.assembleTraining(events(), SCHEMA, fit, fold).orderBy("id").collectAsList();
    assertEquals((float) oof[0], train.get(0).<Float>getAs("site"), "e0 (a, fold 0) gets a's out-of-fold rate");
    assertTrue(Float.isNaN(train.get(9).<Float>getAs("site")), "a missing value stays missing");

    CategoricalEncoding stored = CategoricalEncoding.fromRows(SCHEMA.categorical(),
        fit.encoding().toDataFrame(spark).collectAsList());
    assertThat(stored.targetRates("site")).containsExactly(site);
    Dataset<Row> scoring = spark.createDataFrame(List.of(RowFactory.create("s1", null, 0, 1.5, "zzz", "fr")), EVENTS);
    Row scored = Features.assemble(scoring, SCHEMA, stored).head();
    assertEquals((float) site[2], scored.<Float>getAs("site"), "unseen values get the rare bucket's rate");
    assertEquals((float) prior, scored.<Float>getAs("geo"), 1e-6f, "a feature with no vocabulary: the prior");
  }

  /**
   * The one-pass fit against the definition computed on the driver from the rows themselves: per feature the
   * values seen at least min-count times, the max-categories most frequent (ties by value), the rest in the rare
   * bucket; each index's rate (positives + m·prior) / (rows + m), and per fold the same without the fold's rows.
   * Ties at the cut, values under the minimum count, missing values and a feature with no kept value.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource({"10, 1", "7, 20", "100, 5", "3, 100000"})
  void onePassFitIsTheDefinition(int maxCategories, long minCount) {
    int folds = 3;
    double m = 10;
    org.apache.spark.sql.Column h = pmod(xxhash64(col("id")), lit(2_500L));
    Dataset<Row> events = spark.range(4_000).select(
        floor(sqrt(h)).cast("string").as("site"),
        when(col("id").mod(7).equalTo(0), lit(null)).otherwise(col("id").mod(13)).cast("string").as("geo"),
        when(h.lt(400), lit(1)).otherwise(lit(0)).as("y"),
        pmod(xxhash64(col("id"), lit(3)), lit(3)).cast("int").as("fold"));
    CategoricalEncoding.TargetFit fit = CategoricalEncoding.fitWithTargetStats(events, SCHEMA.categorical(),
        maxCategories, minCount, "y", col("fold"), folds, m);
    assertEquals(folds, fit.folds());

    List<Row> rows = events.collectAsList();
    double prior = rows.stream().mapToInt(r -> r.getInt(2)).average().orElseThrow();
    for (int j = 0; j < SCHEMA.categorical().size(); j++) {
      String f = SCHEMA.categorical().get(j);
      int c = j;
      java.util.Map<String, Long> counts = rows.stream().filter(r -> !r.isNullAt(c)).collect(
          java.util.stream.Collectors.groupingBy(r -> r.getString(c), java.util.stream.Collectors.counting()));
      List<String> kept = counts.entrySet().stream().filter(e -> e.getValue() >= minCount)
          .sorted(java.util.Map.Entry.<String, Long>comparingByValue().reversed()
              .thenComparing(java.util.Map.Entry.comparingByKey()))
          .limit(maxCategories).map(java.util.Map.Entry::getKey).toList();
      assertEquals(kept, fit.encoding().values(f), f + ": the kept values, most frequent first");
      double[][] n = new double[kept.size() + 1][folds];
      double[][] pos = new double[kept.size() + 1][folds];
      for (Row r : rows) {
        if (!r.isNullAt(c)) {
          int idx = kept.indexOf(r.getString(c));
          idx = idx < 0 ? kept.size() : idx;
          n[idx][r.getInt(3)]++;
          pos[idx][r.getInt(3)] += r.getInt(2);
        }
      }
      for (int i = 0; i <= kept.size(); i++) {
        double ni = java.util.Arrays.stream(n[i]).sum();
        double pi = java.util.Arrays.stream(pos[i]).sum();
        assertEquals((pi + m * prior) / (ni + m), fit.encoding().targetRates(f)[i], 1e-12, f + " index " + i);
        for (int k = 0; k < folds; k++) {
          assertEquals((pi - pos[i][k] + m * prior) / (ni - n[i][k] + m), fit.outOfFold().get(f)[i * folds + k],
              1e-12, f + " index " + i + " without fold " + k);
        }
      }
    }
  }
}
