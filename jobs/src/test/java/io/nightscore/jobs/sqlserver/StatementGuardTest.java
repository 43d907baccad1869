package io.nightscore.jobs.sqlserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nightscore.common.sql.SessionSettings;
import io.nightscore.testing.SparkTestBase;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The SQL server's statement policy on parsed statements (nothing here is run). */
class StatementGuardTest extends SparkTestBase {

  static final List<String> READS = List.of(
      "SELECT 1", "select count(*) from nightscore.scores where dt = DATE'2026-11-03'",
      "WITH a AS (SELECT 1 AS x) SELECT * FROM a", "VALUES (1), (2)", "TABLE nightscore.scores",
      "FROM nightscore.scores SELECT event_id", "SELECT * FROM nightscore.scores VERSION AS OF 1",
      "SHOW TABLES IN nightscore", "SHOW DATABASES", "SHOW SCHEMAS", "SHOW VIEWS", "SHOW CATALOGS",
      "SHOW CURRENT NAMESPACE", "DESCRIBE nightscore.scores", "DESC TABLE EXTENDED nightscore.scores",
      "DESCRIBE nightscore.scores score", "DESCRIBE DATABASE nightscore", "DESCRIBE QUERY SELECT 1",
      "DESCRIBE FUNCTION abs", "SHOW FUNCTIONS", "SHOW COLUMNS IN nightscore.scores", "SHOW PARTITIONS t",
      "SHOW CREATE TABLE nightscore.scores", "SHOW TBLPROPERTIES nightscore.scores",
      "SHOW TABLE EXTENDED IN nightscore LIKE 'scores'", "DESCRIBE HISTORY nightscore.scores",
      "DESCRIBE DETAIL nightscore.scores", "EXPLAIN SELECT 1", "EXPLAIN EXTENDED SELECT * FROM nightscore.scores",
      "USE nightscore", "USE default", "-- a comment\nSELECT 1");

  static final List<String> WRITES = List.of(
      "INSERT INTO nightscore.scores SELECT * FROM nightscore.scores",
      "INSERT OVERWRITE TABLE nightscore.scores SELECT * FROM nightscore.scores",
      "FROM nightscore.scores INSERT INTO nightscore.scores SELECT *",
      "MERGE INTO nightscore.scores s USING nightscore.scores t ON s.event_id = t.event_id WHEN MATCHED THEN DELETE",
      "UPDATE nightscore.scores SET score = 0", "DELETE FROM nightscore.scores WHERE true",
      "DROP TABLE nightscore.scores", "DROP DATABASE nightscore CASCADE", "DROP VIEW v",
      "CREATE TABLE x (a INT) USING delta", "CREATE TABLE x USING delta AS SELECT 1 AS a",
      "CREATE OR REPLACE TABLE nightscore.scores USING delta AS SELECT 1 AS a",
      "CREATE VIEW v AS SELECT 1", "CREATE TEMPORARY VIEW v AS SELECT 1", "CREATE DATABASE x",
      "ALTER TABLE nightscore.scores ADD COLUMNS (c INT)", "ALTER TABLE nightscore.scores RENAME TO x",
      "ALTER TABLE nightscore.scores SET TBLPROPERTIES ('a' = 'b')", "COMMENT ON TABLE nightscore.scores IS 'x'",
      "TRUNCATE TABLE nightscore.scores", "VACUUM nightscore.scores RETAIN 0 HOURS", "OPTIMIZE nightscore.scores",
      "RESTORE TABLE nightscore.scores TO VERSION AS OF 0", "CACHE TABLE nightscore.scores", "UNCACHE TABLE x",
      "CLEAR CACHE", "REFRESH TABLE nightscore.scores", "ANALYZE TABLE nightscore.scores COMPUTE STATISTICS",
      "MSCK REPAIR TABLE nightscore.scores", "INSERT OVERWRITE DIRECTORY '/tmp/out' USING parquet SELECT 1",
      "LOAD DATA LOCAL INPATH '/etc/passwd' INTO TABLE t", "CONVERT TO DELTA parquet.`/tmp/x`",
      "GENERATE symlink_format_manifest FOR TABLE nightscore.scores", "LIST JARS");

  static final List<String> NEVER = List.of(
      "SET", "SET -v", "SET spark.sql.runSQLOnFiles", "SET spark.sql.runSQLOnFiles=true", "set x = 1", "RESET",
      "RESET spark.sql.runSQLOnFiles", "ADD JAR /tmp/x.jar", "ADD FILE /etc/passwd", "ADD ARCHIVE /tmp/x.zip",
      "CREATE FUNCTION f AS 'x.Y'", "CREATE TEMPORARY FUNCTION f AS 'x.Y' USING JAR '/tmp/x.jar'",
      "SELECT reflect('java.lang.System', 'exit', '0')", "SELECT JAVA_METHOD('java.lang.System', 'exit', '0')",
      "SELECT try_reflect('java.lang.Runtime', 'getRuntime')",
      "SELECT * FROM nightscore.scores WHERE score IN (SELECT reflect('java.lang.Math', 'random'))",
      "WITH a AS (SELECT java_method('java.lang.Math', 'random') AS r) SELECT * FROM a",
      "SELECT transform(array(1), x -> reflect('java.lang.Math', 'abs', x))",
      "EXPLAIN SELECT reflect('java.lang.Math', 'random')",
      "INSERT INTO nightscore.scores SELECT reflect('java.lang.Math', 'random')",
      "SELECT TRANSFORM(event_id) USING 'cat' AS (x) FROM nightscore.scores");

  private StatementGuard guard(boolean allowWrites) {
    return new StatementGuard(spark, spark.sessionState().sqlParser(), allowWrites);
  }

  private void withoutFileSql(Runnable r) {
    SessionSettings.with(spark, "spark.sql.runSQLOnFiles", "false", () -> {
      r.run();
      return null;
    });
  }

  @Test
  void readOnlyServerParsesReadsAndRefusesEveryWriteNamingIt() {
    withoutFileSql(() -> {
      StatementGuard guard = guard(false);
      for (String sql : READS) {
        assertThatCode(() -> guard.parsePlan(sql)).as(sql).doesNotThrowAnyException();
      }
      for (String sql : WRITES) {
        assertThatThrownBy(() -> guard.parsePlan(sql)).as(sql)
            .isInstanceOf(StatementGuard.StatementRefusedException.class)
            .hasMessageStartingWith("refused: " + StatementGuard.kind(sql) + " (")
            .hasMessageContaining("this server is read-only").hasMessageContaining("--allow-writes");
      }
    });
  }

  @Test
  void allowWritesLiftsOnlyTheWriteRule() {
    withoutFileSql(() -> {
      StatementGuard guard = guard(true);
      for (String sql : WRITES) {
        assertThatCode(() -> guard.parsePlan(sql)).as(sql).doesNotThrowAnyException();
      }
      for (String sql : NEVER) {
        assertThatThrownBy(() -> guard.parsePlan(sql)).as(sql)
            .isInstanceOf(StatementGuard.StatementRefusedException.class).hasMessageNotContaining("--allow-writes");
      }
    });
  }

  @Test
  void messagesSayWhyAndReflectionIsFoundWhereverItHides() {
    withoutFileSql(() -> {
      StatementGuard guard = guard(false);
      assertThatThrownBy(() -> guard.parsePlan("SET spark.sql.runSQLOnFiles=true"))
          .hasMessage("refused: SET reads or changes session settings, which this server does not allow");
      assertThatThrownBy(() -> guard.parsePlan("ADD JAR /tmp/x.jar"))
          .hasMessage("refused: ADD loads code into the server, which this server does not allow");
      assertThatThrownBy(() -> guard.parsePlan("WITH a AS (SELECT java_method('java.lang.Math', 'random') AS r) "
          + "SELECT * FROM a")).hasMessageContaining("calls java_method(), a Java reflection function");
      assertThatThrownBy(() -> guard.parsePlan("SELECT TRANSFORM(a) USING 'sh' FROM t"))
          .hasMessageContaining("runs a script on the server (TRANSFORM ... USING)");
      assertThatThrownBy(() -> guard.parsePlan("DROP TABLE nightscore.scores"))
          .hasMessageStartingWith("refused: DROP (DropTable) can change data or metadata");
      // A name that merely looks like one is a column, not a call.
      assertThatCode(() -> guard.parsePlan("SELECT reflect FROM t")).doesNotThrowAnyException();
    });
  }

  @Test
  void aSessionThatCanReadFilesIsRefusedEverything() {
    SessionSettings.with(spark, "spark.sql.runSQLOnFiles", "true", () -> {
      assertThatThrownBy(() -> guard(true).parsePlan("SELECT 1"))
          .hasMessageContaining("direct file reads are disabled on this server");
      return null;
    });
  }

  @Test
  void theServersOwnUpkeepIsNotAClientStatement() {
    withoutFileSql(() -> {
      StatementGuard guard = guard(false);
      StatementGuard.trusted(() -> assertThatCode(() -> guard.parsePlan("CREATE DATABASE IF NOT EXISTS x"))
          .doesNotThrowAnyException());
      assertThatThrownBy(() -> guard.parsePlan("CREATE DATABASE IF NOT EXISTS x"))
          .isInstanceOf(StatementGuard.StatementRefusedException.class);
    });
  }

  @Test
  void kindIsTheFirstWordPastComments() {
    assertThat(StatementGuard.kind("/* x */ -- y\n  drop table t")).isEqualTo("DROP");
    assertThat(StatementGuard.kind("select(1)")).isEqualTo("SELECT");
  }
}
