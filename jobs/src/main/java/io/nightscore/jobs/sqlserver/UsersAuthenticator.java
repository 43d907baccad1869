package io.nightscore.jobs.sqlserver;

import java.nio.file.Path;
import javax.security.sasl.AuthenticationException;
import org.apache.hive.service.auth.PasswdAuthenticationProvider;

/**
 * HiveServer2's {@code CUSTOM} authentication for the SQL server: the user and password a JDBC client sends are
 * checked against the users file named by {@link #USERS_FILE} (a system property: HiveServer2 builds this class
 * from a fresh configuration of its own, per connection). The file is read at every connection, so users added
 * with {@code add-user} can connect without a restart. Neither the password nor its hash is ever logged.
 */
public final class UsersAuthenticator implements PasswdAuthenticationProvider {
  static final String USERS_FILE = "nightscore.sql-server.users-file";

  @Override
  public void Authenticate(String user, String password) throws AuthenticationException {
    String file = System.getProperty(USERS_FILE);
    if (file == null) {
      throw new AuthenticationException("the server has no users file");
    }
    if (!Users.read(Path.of(file)).verify(user, password)) {
      throw new AuthenticationException("wrong user name or password");
    }
  }
}
