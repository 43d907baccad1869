package io.nightscore.common.registry;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/** SHA-256 fingerprints of text and byte streams, as lowercase hex. */
public final class Digests {
  private Digests() {}

  public static String sha256(String text) {
    return HexFormat.of().formatHex(digest().digest(text.getBytes(StandardCharsets.UTF_8)));
  }

  public static String sha256(InputStream in) throws IOException {
    MessageDigest md = digest();
    byte[] buf = new byte[1 << 16];
    for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
      md.update(buf, 0, n);
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /**
   * The fingerprint of a model's input contract: each feature's name and XGBoost type, in order, and which
   * are categorical. Two models with equal hashes read the events table the same way.
   */
  public static String featureSchema(List<String> features, List<String> featureTypes, List<String> categorical) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < features.size(); i++) {
      sb.append(features.get(i)).append(':').append(featureTypes.get(i))
          .append(categorical.contains(features.get(i)) ? ":categorical" : ":numeric").append('\n');
    }
    return sha256(sb.toString());
  }

  private static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no SHA-256", e);
    }
  }
}
