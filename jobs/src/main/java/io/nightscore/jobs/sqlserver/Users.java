package io.nightscore.jobs.sqlserver;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * The SQL server's users file: one line per user, {@code name:pbkdf2-sha256:ITERATIONS:SALT:HASH} (salt and hash
 * in base64), lines starting with {@code #} ignored. Passwords are never stored, only their salted, slow hashes
 * (PBKDF2 with HMAC-SHA256, {@link #ITERATIONS} iterations by default, from the JDK).
 */
public final class Users {
  /** OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256. */
  public static final int ITERATIONS = 600_000;
  private static final String SCHEME = "pbkdf2-sha256";
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.@-]{1,64}");
  private static final int SALT_BYTES = 16;
  private static final int HASH_BITS = 256;
  private static final SecureRandom RANDOM = new SecureRandom();

  private record Entry(int iterations, byte[] salt, byte[] hash) {}

  private final Map<String, Entry> entries;

  private Users(Map<String, Entry> entries) {
    this.entries = entries;
  }

  /** Reads a users file; a malformed line is an error naming the file and line (never its hash). */
  public static Users read(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the users file " + file, e);
    }
    Map<String, Entry> entries = new LinkedHashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] f = line.split(":", -1);
      try {
        if (f.length != 5 || !NAME.matcher(f[0]).matches() || !f[1].equals(SCHEME)) {
          throw new IllegalArgumentException("expected name:" + SCHEME + ":iterations:salt:hash");
        }
        int iterations = Integer.parseInt(f[2]);
        if (iterations < 1) {
          throw new IllegalArgumentException("iterations must be positive");
        }
        entries.put(f[0], new Entry(iterations, Base64.getDecoder().decode(f[3]), Base64.getDecoder().decode(f[4])));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("users file " + file + ", line " + (i + 1) + ": " + e.getMessage());
      }
    }
    return new Users(entries);
  }

  public int size() {
    return entries.size();
  }

  /**
   * Whether the password is this user's. An unknown user costs the same hashing as a known one, so the time a
   * refusal takes does not tell which names exist.
   */
  public boolean verify(String user, String password) {
    Entry e = user == null ? null : entries.get(user);
    Entry against = e != null ? e : new Entry(ITERATIONS, new byte[SALT_BYTES], new byte[HASH_BITS / 8]);
    byte[] hash = hash(password == null ? "" : password, against.salt(), against.iterations());
    return MessageDigest.isEqual(hash, against.hash()) && e != null;
  }

  /**
   * Adds a user to the file, or replaces the user's password; the file is rewritten whole through a temporary
   * file (readable by its owner only) and moved into place.
   */
  public static void put(Path file, String user, String password, int iterations) {
    if (!NAME.matcher(user).matches()) {
      throw new IllegalArgumentException("user name must be 1 to 64 of [A-Za-z0-9_.@-], got '" + user + "'");
    }
    if (password.isEmpty()) {
      throw new IllegalArgumentException("the password must not be empty");
    }
    byte[] salt = new byte[SALT_BYTES];
    RANDOM.nextBytes(salt);
    String entry = String.join(":", user, SCHEME, Integer.toString(iterations),
        Base64.getEncoder().encodeToString(salt), Base64.getEncoder().encodeToString(hash(password, salt, iterations)));
    try {
      List<String> lines = new ArrayList<>();
      if (Files.exists(file)) {
        read(file);  // refuse to rewrite a file we cannot parse
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
          if (!line.strip().startsWith(user + ":")) {
            lines.add(line);
          }
        }
      } else {
        lines.add("# nightscore sql-server users: name:" + SCHEME + ":iterations:salt:hash (bin/nightscore sql-server "
            + "add-user)");
      }
      lines.add(entry);
      Path parent = file.toAbsolutePath().getParent();
      Files.createDirectories(parent);
      Path tmp = Files.createTempFile(parent, ".users", ".tmp");
      try {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
      } catch (UnsupportedOperationException e) {
        // not a POSIX file system: its own permissions apply
      }
      Files.write(tmp, lines, StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the users file " + file, e);
    }
  }

  static byte[] hash(String password, byte[] salt, int iterations) {
    PBEKeySpec spec = new PBEKeySpec(password.toCharArray(), salt, iterations, HASH_BITS);
    try {
      return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("PBKDF2WithHmacSHA256 is not available in this JDK", e);
    } finally {
      spec.clearPassword();
    }
  }
}
