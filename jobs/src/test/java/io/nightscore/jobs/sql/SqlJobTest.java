package io.nightscore.jobs.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

@Execution(ExecutionMode.CONCURRENT)
class SqlJobTest {

  @Test
  void splitsOnSemicolonsOutsideQuotesAndComments() {
    assertEquals(List.of("SELECT 1", "SELECT 'a;b'", "SELECT `x;y` FROM t"),
        SqlJob.split("SELECT 1; SELECT 'a;b';\n-- a comment; with a semicolon\nSELECT `x;y` FROM t;"));
  }

  @Test
  void dropsEmptyStatementsAndKeepsEscapedQuotes() {
    assertEquals(List.of("SELECT 'it\\'s; fine'"), SqlJob.split(";;  SELECT 'it\\'s; fine' ;\n;"));
    assertEquals(List.of(), SqlJob.split("  -- only a comment\n"));
  }
}
