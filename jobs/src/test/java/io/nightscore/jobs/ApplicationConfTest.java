package io.nightscore.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.nightscore.common.config.Settings;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/** conf/application.conf is packaged with the jobs: it sits above reference.conf and below --conf. */
@Execution(ExecutionMode.CONCURRENT)
class ApplicationConfTest {

  @Test
  void applicationConfOverridesReferenceAndConfOverridesIt() {
    assertThat(Settings.defaults(Map.of()).sparkConf())
        .containsEntry("spark.sql.shuffle.partitions", "8");
    assertThat(Settings.defaults(Map.of("nightscore.spark.\"spark.sql.shuffle.partitions\"", "3")).sparkConf())
        .containsEntry("spark.sql.shuffle.partitions", "3");
  }
}
