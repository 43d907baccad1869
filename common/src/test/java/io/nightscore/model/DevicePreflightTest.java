package io.nightscore.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

@Execution(ExecutionMode.CONCURRENT)
class DevicePreflightTest {
  static final Map<String, String> LOCAL = Map.of("spark.master", "local[2]");

  @Test
  void cpuWithoutRapidsIsFine() {
    assertNull(DevicePreflight.problem("cpu", LOCAL, p -> false));
    assertNull(DevicePreflight.problem("cpu", Map.of("spark.master", "yarn",
        "spark.plugins", "com.nvidia.spark.SQLPlugin", "spark.rapids.sql.enabled", "false"), p -> false),
        "RAPIDS loaded but disabled: CPU training works");
  }

  @Test
  void cpuWithRapidsEnabledIsRefused() {
    assertThat(DevicePreflight.problem("cpu", Map.of("spark.master", "yarn",
        "spark.plugins", "com.nvidia.spark.SQLPlugin"), p -> false))
        .contains("RAPIDS plugin is enabled").contains("nightscore.xgboost.device=cuda");
  }

  @Test
  void cudaLocallyNeedsAGpuDevice() {
    assertThat(DevicePreflight.problem("cuda", LOCAL, p -> false))
        .contains("no NVIDIA GPU").contains("would abort the JVM");
    assertNull(DevicePreflight.problem("cuda", LOCAL, p -> p.toString().equals("/dev/nvidia0")));
  }

  @Test
  void cudaOnAClusterNeedsExecutorGpus() {
    assertThat(DevicePreflight.problem("cuda", Map.of("spark.master", "yarn"), p -> false))
        .contains("spark.executor.resource.gpu.amount");
    assertNull(DevicePreflight.problem("cuda", Map.of("spark.master", "k8s://https://h:443",
        "spark.executor.resource.gpu.amount", "1"), p -> false));
  }
}
