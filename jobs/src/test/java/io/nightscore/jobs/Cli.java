package io.nightscore.jobs;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/** Runs the real command line ({@link Main#execute}, what spark-submit runs) on a test's session. */
final class Cli {
  private Cli() {}

  /** Exit code, stdout and stderr of one command line. */
  record Run(int code, String out, String err) {}

  /** Runs {@code args} after the {@code common} options (the test's warehouse and small-data settings). */
  static Run run(SparkSession spark, List<String> common, String... args) {
    List<String> all = new ArrayList<>(common);
    all.addAll(List.of(args));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.execute(Sessions.existing(spark), new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), all.toArray(new String[0]));
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }
}
