package io.nightscore.tools.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/** bench --record: figures appended to the history with their commit, date and machine; the plot redrawn. */
@Execution(ExecutionMode.CONCURRENT)
class BenchHistoryTest {
  @TempDir Path dir;

  @Test
  void appendsEachRunBelowOneHeaderAndDrawsThePlot() throws Exception {
    Path tsv = dir.resolve("docs/bench-history.tsv");
    Path png = dir.resolve("docs/bench-history.png");
    Map<String, String> first = new LinkedHashMap<>(Map.of("scoring_vs_native", "0.367"));
    first.put("score_rows", "2000000");
    BenchHistory.record(tsv, png, "aaaaaaa1", LocalDate.of(2026, 11, 28), "2 cores", first);
    BenchHistory.record(tsv, png, "bbbbbbb2", LocalDate.of(2026, 12, 2), "2 cores",
        Map.of("scoring_vs_native", "0.371"));

    List<String> lines = Files.readAllLines(tsv);
    assertThat(lines).containsExactly(BenchHistory.HEADER,
        "aaaaaaa1\t2026-11-28\t2 cores\tscoring_vs_native\t0.367",
        "aaaaaaa1\t2026-11-28\t2 cores\tscore_rows\t2000000",
        "bbbbbbb2\t2026-12-02\t2 cores\tscoring_vs_native\t0.371");
    assertThat(png).isNotEmptyFile();
    assertThat(Files.readAllBytes(png)).startsWith((byte) 0x89, (byte) 'P', (byte) 'N', (byte) 'G');
  }

  @Test
  void refusesAFileThatIsNotAHistory() throws Exception {
    Path tsv = dir.resolve("other.tsv");
    Files.writeString(tsv, "figure\tvalue\n");
    assertThatThrownBy(() -> BenchHistory.record(tsv, dir.resolve("other.png"), "c", LocalDate.of(2026, 1, 1), "m",
        Map.of("x", "1"))).hasMessageContaining("is not a bench history");
  }

  @Test
  void theCommittedHistoryReadsAsOne() throws Exception {
    List<String[]> rows = BenchHistory.read(Path.of("../docs/bench-history.tsv"));
    assertThat(rows).isNotEmpty().allSatisfy(r -> assertThat(r).hasSize(5));
    assertThat(rows).anySatisfy(r -> assertThat(r[3]).isEqualTo("scoring_vs_native"));
  }
}
