package io.nightscore.common.sql;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.LocalDate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Execution(ExecutionMode.CONCURRENT)
class SqlSafetyTest {

  @Test
  void parsesRealDates() {
    assertEquals(LocalDate.of(2026, 11, 1), SqlSafety.parseDate("2026-11-01", "--date"));
    assertEquals("DATE'2024-02-29'", SqlSafety.dateLiteral(SqlSafety.parseDate("2024-02-29", "--date")));
  }

  @ParameterizedTest
  @ValueSource(strings = {"2026-13-01", "2026-02-30", "2025-02-29", "26-11-01", "2026/11/01", "2026-11-01 ",
      "2026-11-01' OR '1'='1", "", "yesterday"})
  void rejectsAnythingElseNamingTheOptionAndValue(String bad) {
    assertThatThrownBy(() -> SqlSafety.parseDate(bad, "--date"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--date")
        .hasMessageContaining("yyyy-MM-dd")
        .hasMessageContaining("'" + bad + "'");
  }

  @ParameterizedTest
  @ValueSource(strings = {"events", "_x1", "Nightscore_2"})
  void acceptsIdentifiers(String ok) {
    assertEquals(ok, SqlSafety.checkIdentifier(ok, "name"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"1abc", "a-b", "a b", "a;drop", "a`b", "a.b", ""})
  void rejectsNonIdentifiers(String bad) {
    assertThatThrownBy(() -> SqlSafety.checkIdentifier(bad, "nightscore.database"))
        .hasMessageContaining("nightscore.database");
  }

  @ParameterizedTest
  @ValueSource(strings = {"/tmp/a'b", "/tmp/a\\b", "s3a://b/x;y", "/tmp/`x`", "/tmp/x\ny"})
  void rejectsPathsThatCouldEscapeAStringLiteral(String bad) {
    assertThatThrownBy(() -> SqlSafety.checkPath(bad, "nightscore.warehouse"))
        .hasMessageContaining("nightscore.warehouse");
  }

  @Test
  void quotesSafePaths() {
    assertEquals("'s3a://bucket/prefix/tables/events'", SqlSafety.pathLiteral("s3a://bucket/prefix/tables/events"));
  }
}
