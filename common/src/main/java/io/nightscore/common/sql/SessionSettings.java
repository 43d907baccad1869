package io.nightscore.common.sql;

import java.util.function.Supplier;
import org.apache.spark.sql.RuntimeConfig;
import org.apache.spark.sql.SparkSession;

/** A session setting changed for one piece of work only. */
public final class SessionSettings {
  private SessionSettings() {}

  /**
   * Runs {@code work} with the session's {@code key} set to {@code value}, then puts the setting back as it was:
   * the same value when it was set, unset when it was not (Spark's default then applies again), also when
   * {@code work} fails. Queries planned inside plan with the value; a Dataset kept and run later plans again with
   * whatever the session says then.
   */
  public static <T> T with(SparkSession spark, String key, String value, Supplier<T> work) {
    RuntimeConfig conf = spark.conf();
    // getAll, not getOption: for a key Spark registers, getOption answers its default when nothing is set.
    scala.Option<String> before = conf.getAll().get(key);
    conf.set(key, value);
    try {
      return work.get();
    } finally {
      if (before.isDefined()) {
        conf.set(key, before.get());
      } else {
        conf.unset(key);
      }
    }
  }
}
