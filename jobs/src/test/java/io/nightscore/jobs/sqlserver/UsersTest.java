package io.nightscore.jobs.sqlserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.security.sasl.AuthenticationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The SQL server's users file: salted PBKDF2 entries, verification, replacement, and the authenticator. */
class UsersTest {
  @TempDir Path dir;

  @Test
  void storesOnlySaltedHashesAndVerifiesPasswords() throws Exception {
    Path file = dir.resolve("users");
    Users.put(file, "analyst", "s3cret-Pass", 1000);
    Users.put(file, "bi", "s3cret-Pass", 1000);
    String text = Files.readString(file, StandardCharsets.UTF_8);
    assertThat(text).doesNotContain("s3cret-Pass").contains("analyst:pbkdf2-sha256:1000:");
    // Same password, different salts: different hashes.
    String[] lines = text.lines().filter(l -> !l.startsWith("#")).toArray(String[]::new);
    assertThat(lines[0].split(":")[4]).isNotEqualTo(lines[1].split(":")[4]);
    Users users = Users.read(file);
    assertThat(users.verify("analyst", "s3cret-Pass")).isTrue();
    assertThat(users.verify("analyst", "s3cret-pass")).isFalse();
    assertThat(users.verify("nobody", "s3cret-Pass")).isFalse();
    assertThat(users.verify(null, null)).isFalse();

    Users.put(file, "analyst", "new-Pass", 1000);
    users = Users.read(file);
    assertThat(users.size()).isEqualTo(2);
    assertThat(users.verify("analyst", "s3cret-Pass")).isFalse();
    assertThat(users.verify("analyst", "new-Pass")).isTrue();
  }

  @Test
  void authenticatorReadsTheFileNamedByItsPropertyAndNeverEchoesThePassword() throws Exception {
    Path file = dir.resolve("users");
    Users.put(file, "analyst", "right-Pass", 1000);
    String before = System.getProperty(UsersAuthenticator.USERS_FILE);
    System.setProperty(UsersAuthenticator.USERS_FILE, file.toString());
    try {
      new UsersAuthenticator().Authenticate("analyst", "right-Pass");
      assertThatThrownBy(() -> new UsersAuthenticator().Authenticate("analyst", "wrong-Pass"))
          .isInstanceOf(AuthenticationException.class).hasMessage("wrong user name or password");
    } finally {
      if (before == null) {
        System.clearProperty(UsersAuthenticator.USERS_FILE);
      } else {
        System.setProperty(UsersAuthenticator.USERS_FILE, before);
      }
    }
  }

  @Test
  void malformedLinesAndNamesAreNamedWithoutTheirContent() throws Exception {
    Path file = dir.resolve("users");
    Files.writeString(file, "# users\nanalyst:md5:1:abc:def\n");
    assertThatThrownBy(() -> Users.read(file)).hasMessageContaining("line 2").hasMessageNotContaining("def");
    assertThatThrownBy(() -> Users.put(dir.resolve("u2"), "bad name", "x", 1000))
        .hasMessageContaining("user name must be");
    assertThatThrownBy(() -> Users.put(dir.resolve("u2"), "ok", "", 1000)).hasMessageContaining("must not be empty");
  }

  @Test
  void aNonLoopbackBindNeedsUsersAndTls() {
    assertThatThrownBy(() -> SqlServer.validate(new SqlServer.Options(10000, "0.0.0.0", false, null, null, 30)))
        .hasMessageContaining("not a loopback address").hasMessageContaining("without --users");
    assertThat(SqlServer.validate(new SqlServer.Options(10000, "127.0.0.1", false, null, null, 30)))
        .isEqualTo("read-only, no authentication (loopback only), no TLS");
  }
}
