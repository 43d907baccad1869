package io.nightscore.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nightscore.common.config.ConfigLoader;
import io.nightscore.common.config.Settings;
import io.nightscore.model.DevicePreflight;
import java.io.File;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/** The cluster overlays in conf/ are valid settings that pass the device preflight on their kind of cluster. */
@Execution(ExecutionMode.CONCURRENT)
class ClusterOverlaysTest {
  static final File CONF = new File("../conf");

  static Settings load(String file) {
    return Settings.from(ConfigLoader.load(new File(CONF, file), Map.of()));
  }

  /** The session settings of an overlay as spark-submit on YARN would leave them. */
  static Map<String, String> onYarn(Settings s) {
    Map<String, String> conf = new HashMap<>(s.sparkConf());
    conf.put("spark.master", "yarn");
    return conf;
  }

  @Test
  void gpuOverlayTurnsOnRapidsAndCudaConsistently() {
    Settings gpu = load("gpu-cluster.conf");
    assertEquals("cuda", gpu.xgboost().device());
    Map<String, String> conf = onYarn(gpu);
    assertThat(DevicePreflight.rapidsEnabled(conf)).isTrue();
    assertNull(DevicePreflight.problem("cuda", conf, p -> false), "passes the preflight on a GPU cluster");
    // Every executor core can run a task: task GPU share = 1 / executor cores.
    double perTask = Double.parseDouble(conf.get("spark.task.resource.gpu.amount"));
    int cores = Integer.parseInt(conf.get("spark.executor.cores"));
    assertEquals(1.0 / cores, perTask, 1e-9);
    // No more XGBoost workers than GPUs, or the barrier stage never starts.
    int gpus = Integer.parseInt(conf.get("spark.executor.instances"))
        * Integer.parseInt(conf.get("spark.executor.resource.gpu.amount"));
    assertThat(gpu.xgboost().numWorkers()).isBetween(1, gpus);
    // The same overlay on this GPU-less machine stops before XGBoost is touched.
    Map<String, String> local = new HashMap<>(gpu.sparkConf());
    local.put("spark.master", "local[2]");
    assertThat(DevicePreflight.problem("cuda", local, p -> false)).contains("no NVIDIA GPU");
  }

  @Test
  void cpuOverlayKeepsRapidsOffAndFitsItsSlots() {
    Settings cpu = load("cpu-cluster.conf");
    assertEquals("cpu", cpu.xgboost().device());
    Map<String, String> conf = onYarn(cpu);
    assertThat(DevicePreflight.rapidsEnabled(conf)).isFalse();
    assertNull(DevicePreflight.problem("cpu", conf, p -> false));
    int slots = Integer.parseInt(conf.get("spark.executor.instances"))
        * Integer.parseInt(conf.get("spark.executor.cores")) / Integer.parseInt(conf.get("spark.task.cpus"));
    assertThat(cpu.xgboost().numWorkers()).isBetween(1, slots);
  }

  @Test
  void airflowGpuProfileAgreesWithTheGpuOverlay() throws Exception {
    JsonNode profile = new ObjectMapper().readTree(new File("../airflow/nightscore.example.json"))
        .path("profiles").path("gpu");
    Map<String, String> overlay = load("gpu-cluster.conf").sparkConf();
    Iterator<Map.Entry<String, JsonNode>> it = profile.path("spark_conf").fields();
    int shared = 0;
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      if (overlay.containsKey(e.getKey())) {
        assertEquals(overlay.get(e.getKey()), e.getValue().asText(), "airflow gpu profile vs conf/gpu-cluster.conf: "
            + e.getKey());
        shared++;
      }
    }
    assertThat(shared).as("settings both name").isGreaterThanOrEqualTo(4);
    assertEquals(load("gpu-cluster.conf").xgboost().device(),
        profile.path("nightscore_conf").path("nightscore.xgboost.device").asText());
  }
}
