package io.nightscore.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  @TempDir Path dir;

  @AfterEach
  void clearProperties() {
    System.clearProperty("nightscore.retrain.window-days");
  }

  @Test
  void defaultsCarryTheContractKeys() {
    Settings s = Settings.defaults(Map.of());
    assertEquals("nightscore", s.database());
    assertEquals(8, s.windowDays(), "window-days default: a full week of training days plus the holdout");
    assertEquals("cpu", s.xgboost().device());
    assertEquals("event_id", s.schema().id());
    assertEquals(56, s.schema().features().size(), "default schema has ~56 features");
    assertThat(s.xgboost().params()).doesNotContainKey("scale_pos_weight");
  }

  @Test
  void unknownKeyFailsNamingItAndTheNearestKnownKey() {
    assertThatThrownBy(() -> Settings.defaults(Map.of("nightscore.retrain.window-dayz", "3")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'nightscore.retrain.window-dayz'")
        .hasMessageContaining("did you mean 'nightscore.retrain.window-days'");
  }

  @Test
  void unknownTopLevelKeyInAnOverlayFileFails() throws Exception {
    File f = dir.resolve("bad.conf").toFile();
    Files.writeString(f.toPath(), "nightscore { warehose = /tmp/x }");
    assertThatThrownBy(() -> ConfigLoader.load(f, Map.of()))
        .hasMessageContaining("'nightscore.warehose'")
        .hasMessageContaining("nightscore.warehouse");
  }

  @Test
  void wrongTypeFailsNamingTheKey() {
    assertThatThrownBy(() -> Settings.defaults(Map.of("nightscore.retrain.window-days", "seven")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("window-days");
  }

  @Test
  void badDeviceAndForbiddenParametersAreRefused() {
    assertThatThrownBy(() -> Settings.defaults(Map.of("nightscore.xgboost.device", "tpu")))
        .hasMessageContaining("'cpu' or 'cuda'").hasMessageContaining("tpu");
    assertThatThrownBy(() -> Settings.defaults(Map.of("nightscore.xgboost.params.scale_pos_weight", "80")))
        .hasMessageContaining("scale_pos_weight");
  }

  @Test
  void precedenceIsReferenceThenApplicationThenFileThenOverridesThenSystemProperties() throws Exception {
    File f = dir.resolve("overlay.conf").toFile();
    Files.writeString(f.toPath(), "nightscore.retrain.window-days = 5\nnightscore.database = fromfile\n");
    Settings fileOnly = Settings.from(ConfigLoader.load(f, Map.of()));
    assertEquals(5, fileOnly.windowDays(), "file beats reference");
    assertEquals("fromfile", fileOnly.database());

    Settings overridden = Settings.from(ConfigLoader.load(f, Map.of("nightscore.retrain.window-days", "4")));
    assertEquals(4, overridden.windowDays(), "--conf beats the file");
    assertEquals("fromfile", overridden.database(), "keys not overridden keep the file's value");

    System.setProperty("nightscore.retrain.window-days", "3");
    Settings sys = Settings.from(ConfigLoader.load(f, Map.of("nightscore.retrain.window-days", "4")));
    assertEquals(3, sys.windowDays(), "-D beats everything");
  }

  @Test
  void sparkSettingsTheJobsNeedAreDefaults() {
    Settings s = Settings.defaults(Map.of());
    assertThat(s.sparkConf()).containsEntry("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .containsEntry("spark.sql.session.timeZone", "UTC");
  }

  @Test
  void openSubtreesAcceptAnyKey() {
    Settings s = Settings.defaults(Map.of("nightscore.xgboost.params.gamma", "0.5"));
    assertEquals("0.5", s.xgboost().params().get("gamma"));
  }

  @Test
  void schemaColumnsMustBeIdentifiersAndUnique() {
    assertThatThrownBy(() -> Settings.defaults(Map.of("nightscore.schema.id", "id; DROP TABLE x")))
        .hasMessageContaining("nightscore.schema.id");
    assertThatThrownBy(() -> Settings.defaults(Map.of("nightscore.schema.label", "event_time")))
        .hasMessageContaining("twice");
    assertThatThrownBy(() -> Settings.defaults(Map.of("nightscore.schema.id", "dt")))
        .hasMessageContaining("reserves");
  }

  @Test
  void qualitySettingsAreValidatedWithTheKeyAndTheExpectation() {
    Settings s = Settings.defaults(Map.of());
    assertEquals("target", s.categoricalMode());
    assertEquals("platt", s.calibration());
    assertEquals(1.0, s.negativeSamplingRate());
    assertThatThrownBy(() -> Settings.defaults(Map.of("nightscore.retrain.calibration", "beta")))
        .hasMessageContaining("nightscore.retrain.calibration must be one of [platt, isotonic, none], got 'beta'");
    assertThatThrownBy(() -> Settings.defaults(Map.of("nightscore.retrain.negative-sampling-rate", "0")))
        .hasMessageContaining("negative-sampling-rate must be in (0, 1]");
    assertThatThrownBy(() -> Settings.defaults(Map.of("nightscore.retrain.tune-share", "1")))
        .hasMessageContaining("tune-share must be in (0, 1)");
    assertThatThrownBy(() -> Settings.defaults(Map.of("nightscore.features.categorical-mode", "onehot")))
        .hasMessageContaining("'target', 'ordinal' or 'native', got 'onehot'");
  }
}
