package io.nightscore.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * docs/configuration.md and docs/cli.md are generated; this fails when either differs from what the code says.
 * With {@code -Dnightscore.docs.write=true} it rewrites them instead.
 */
@Execution(ExecutionMode.CONCURRENT)
class ReferenceDocsTest {
  private static final Path DOCS = Path.of("../docs");

  private static void check(String file, String generated) throws Exception {
    Path page = DOCS.resolve(file);
    if (Boolean.getBoolean("nightscore.docs.write")) {
      Files.writeString(page, generated, StandardCharsets.UTF_8);
    }
    assertThat(Files.exists(page) ? Files.readString(page, StandardCharsets.UTF_8) : "")
        .as("docs/%s is stale; regenerate it: mvn -q -pl jobs -am test -Dtest=ReferenceDocsTest "
            + "-Dsurefire.failIfNoSpecifiedTests=false -Dnightscore.docs.write=true", file)
        .isEqualTo(generated);
  }

  @Test
  void configurationPageMatchesReferenceConf() throws Exception {
    String page = ReferenceDocs.configuration();
    assertThat(page).contains("| `nightscore.retrain.window-days` | `8` |")
        .contains("Largest share of a day's raw rows that may be quarantined");
    check("configuration.md", page);
  }

  @Test
  void cliPageMatchesTheCommandLine() throws Exception {
    String page = ReferenceDocs.cli();
    assertThat(page).contains("## `nightscore sql`").contains("--max-rows").contains("## `nightscore models promote`");
    check("cli.md", page);
  }
}
