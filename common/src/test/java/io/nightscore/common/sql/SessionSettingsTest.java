package io.nightscore.common.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nightscore.testing.SparkTestBase;
import org.junit.jupiter.api.Test;

/** A setting changed for one piece of work is put back as it was, set or unset, also when the work fails. */
class SessionSettingsTest extends SparkTestBase {
  private static final String KEY = "spark.sql.files.maxRecordsPerFile";

  @Test
  void anUnsetSettingIsUnsetAgain() {
    spark.conf().unset(KEY);
    assertThat(SessionSettings.with(spark, KEY, "7", () -> spark.conf().get(KEY))).isEqualTo("7");
    assertThat(spark.conf().getAll().contains(KEY)).as("unset, Spark's default applies").isFalse();
  }

  @Test
  void aSetValueComesBackEvenWhenTheWorkFails() {
    spark.conf().set(KEY, "3");
    try {
      assertThatThrownBy(() -> SessionSettings.with(spark, KEY, "9", () -> {
        throw new IllegalStateException("work failed with " + spark.conf().get(KEY));
      })).hasMessage("work failed with 9");
      assertThat(spark.conf().get(KEY)).isEqualTo("3");
    } finally {
      spark.conf().unset(KEY);
    }
  }
}
