package io.nightscore.common.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigValue;
import java.io.File;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** Builds the layered nightscore configuration and rejects unknown or mistyped keys before any Spark work. */
public final class ConfigLoader {

  static final String ROOT = "nightscore";
  /** Subtrees whose keys are open-ended (Spark settings, native XGBoost parameters). */
  private static final Set<String> OPEN_SUBTREES = Set.of("nightscore.spark", "nightscore.xgboost.params");

  private ConfigLoader() {}

  /**
   * Layers, lowest first: reference.conf, application.conf (classpath), the overlay file, the
   * key=value overrides, then JVM system properties (-D).
   */
  public static Config load(File overlay, Map<String, String> overrides) {
    ConfigFactory.invalidateCaches();
    Config reference = ConfigFactory.defaultReference();
    Config application = ConfigFactory.parseResources("application.conf");
    Config file = ConfigFactory.empty();
    if (overlay != null) {
      if (!overlay.isFile()) {
        throw new IllegalArgumentException("--config file not found: '" + overlay + "'");
      }
      file = ConfigFactory.parseFile(overlay, ConfigParseOptions.defaults().setAllowMissing(false));
    }
    Config cli = overrides(overrides);
    Config sysProps = ConfigFactory.systemProperties();
    Config system = sysProps.hasPath(ROOT) ? sysProps.withOnlyPath(ROOT) : ConfigFactory.empty();
    Config merged = system.withFallback(cli).withFallback(file).withFallback(application)
        .withFallback(reference)
        .resolve(ConfigResolveOptions.defaults().setAllowUnresolved(false));
    validate(merged, reference);
    return merged;
  }

  /** key=value overrides; a value starting with [ or { is HOCON (a list or an object), anything else a string. */
  static Config overrides(Map<String, String> overrides) {
    Config cli = ConfigFactory.empty("--conf");
    for (Map.Entry<String, String> e : overrides.entrySet()) {
      String v = e.getValue() == null ? "" : e.getValue().trim();
      ConfigValue value;
      if (v.startsWith("[") || v.startsWith("{")) {
        try {
          value = ConfigFactory.parseString("v = " + v).getValue("v");
        } catch (ConfigException ex) {
          throw new IllegalArgumentException("--conf " + e.getKey() + "=" + v + " is not valid HOCON: "
              + ex.getMessage(), ex);
        }
      } else {
        value = com.typesafe.config.ConfigValueFactory.fromAnyRef(e.getValue(), "--conf " + e.getKey());
      }
      try {
        cli = cli.withValue(e.getKey(), value);
      } catch (ConfigException ex) {
        throw new IllegalArgumentException("--conf key '" + e.getKey() + "' is not a valid path: "
            + ex.getMessage(), ex);
      }
    }
    return cli;
  }

  /** Fails on a key under nightscore.* that reference.conf does not know, or on a value of the wrong type. */
  static void validate(Config config, Config reference) {
    List<String> unknown = new ArrayList<>();
    Set<String> known = new TreeSet<>();
    for (Map.Entry<String, ConfigValue> e : reference.getConfig(ROOT).entrySet()) {
      known.add(ROOT + "." + e.getKey());
    }
    for (Map.Entry<String, ConfigValue> e : config.getConfig(ROOT).entrySet()) {
      String key = ROOT + "." + e.getKey();
      if (!known.contains(key) && OPEN_SUBTREES.stream().noneMatch(s -> key.startsWith(s + "."))) {
        unknown.add(key);
      }
    }
    if (!unknown.isEmpty()) {
      StringBuilder msg = new StringBuilder("Unknown configuration key");
      msg.append(unknown.size() > 1 ? "s: " : ": ");
      for (int i = 0; i < unknown.size(); i++) {
        String key = unknown.get(i);
        msg.append(i > 0 ? ", " : "").append('\'').append(key).append('\'');
        String near = nearest(key, known);
        if (near != null) {
          msg.append(" (did you mean '").append(near).append("'?)");
        }
      }
      msg.append(". Known keys are listed, with their defaults, in reference.conf.");
      throw new IllegalArgumentException(msg.toString());
    }
    try {
      config.checkValid(reference, ROOT);
    } catch (ConfigException.ValidationFailed e) {
      throw new IllegalArgumentException("Invalid configuration: " + e.getMessage(), e);
    }
  }

  private static String nearest(String key, Set<String> known) {
    return known.stream()
        .min(Comparator.comparingInt(k -> editDistance(k, key)))
        .filter(k -> editDistance(k, key) <= Math.max(3, key.length() / 4))
        .orElse(null);
  }

  static int editDistance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
