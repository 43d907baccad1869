package io.nightscore.model.engine;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/** Pins the Spark and xgboost4j-spark versions the engine's internals were written for. */
@Execution(ExecutionMode.CONCURRENT)
class EngineVersionsTest {
  @Test
  void theClassPathHoldsTheVersionsTheEngineWasWrittenFor() {
    assertThat(EngineVersions.mismatch()).as("model.engine reaches into library internals").isEmpty();
  }

  @Test
  void versionsAreReadFromTheClassPath() {
    assertThat(EngineVersions.spark()).matches("\\d+\\.\\d+\\.\\d+");
    assertThat(EngineVersions.xgboost4jSpark()).matches("\\d+\\.\\d+\\.\\d+");
  }
}
