package io.nightscore.common.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** Versions of nightscore and of the libraries it was built against, recorded with every model. */
public final class BuildInfo {
  private static final Properties PROPS = load();

  private BuildInfo() {}

  private static Properties load() {
    Properties p = new Properties();
    try (InputStream in = BuildInfo.class.getResourceAsStream("/nightscore-build.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return p;
  }

  public static String nightscoreVersion() {
    return PROPS.getProperty("nightscore.version", "unknown");
  }

  /**
   * The commit the code was built from, with "+dirty" when the working tree had uncommitted changes, or
   * "unknown" when it was built without git.
   */
  public static String codeVersion() {
    String commit = PROPS.getProperty("git.commit", "");
    if (commit.isEmpty() || commit.startsWith("${")) {
      return "unknown";
    }
    return "true".equals(PROPS.getProperty("git.dirty")) ? commit + "+dirty" : commit;
  }

  public static String xgboostVersion() {
    return PROPS.getProperty("xgboost.version", "unknown");
  }
}
