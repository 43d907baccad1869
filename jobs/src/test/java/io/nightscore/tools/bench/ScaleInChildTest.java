package io.nightscore.tools.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.nightscore.common.config.ConfigLoader;
import io.nightscore.common.config.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/** A scaling day scored through the launcher: what the child is asked to do and what is read back from it. */
@Execution(ExecutionMode.CONCURRENT)
class ScaleInChildTest {
  @TempDir Path dir;

  /**
   * A stand-in launcher that prints a score line naming its arguments and environment, and runs a JVM for about a
   * second so that its peak memory can be read.
   */
  @Test
  void theChildScoresTheDayWithTheJarAsItIsAndItsOwnLineIsRead() throws Exception {
    Files.writeString(dir.resolve("Pause.java"),
        "class Pause { public static void main(String[] a) throws Exception { Thread.sleep(1000); } }\n");
    Path launcher = dir.resolve("launcher");
    Files.writeString(launcher, "#!/usr/bin/env bash\n"
        + "echo \"args: $*\"\n"
        + "echo \"rebuild=${NIGHTSCORE_REBUILD:-unset} heap=$NIGHTSCORE_DRIVER_MEMORY\"\n"
        + "java " + dir.resolve("Pause.java") + "\n"
        + "echo 'score 2026-01-03: rows=1234 model_version=7 seconds=2.50'\n");
    assertThat(launcher.toFile().setExecutable(true)).isTrue();
    Settings settings = Settings.from(ConfigLoader.load(null, Map.of("nightscore.warehouse", dir.toString(),
        "nightscore.database", "nightscore_bench")));

    BenchJob.Scale s = BenchJob.scaleInChild(List.of(launcher.toString(), "--conf", "a=b"), "96m", settings,
        LocalDate.parse("2026-01-03"), 7, dir);

    assertThat(s.rows()).isEqualTo(1234);
    assertThat(s.seconds()).isEqualTo(2.5);
    assertThat(s.peakMb()).as("the child JVM's peak resident memory").isGreaterThan(1);
    String log = Files.readString(dir.resolve("score-2026-01-03.log"));
    assertThat(log).contains("args: --conf a=b --conf nightscore.warehouse=")
        .contains("--conf nightscore.database=nightscore_bench score --date 2026-01-03 --model-version 7")
        .as("no rebuild of the jar under the running bench").contains("rebuild=0 heap=96m");
  }
}
