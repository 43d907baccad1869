package io.nightscore.jobs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** {@code bin/nightscore} (or another script of the checkout) in a process of its own, its output in a log file. */
final class Launcher {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  /**
   * JIT options of the JVMs the tests launch (drivers; executors through {@link #EXECUTOR_OPTIONS}): HotSpot's
   * client compiler only. These JVMs live for seconds on a few thousand rows, and on 2 cores the server
   * compiler's warm-up was most of their CPU time (a check on the test cluster: 56 s, 35 s with this).
   */
  static final String QUICK_JIT = "-XX:TieredStopAtLevel=1";

  /** The command-line setting that gives a cluster command's executors {@link #QUICK_JIT}. */
  static final List<String> EXECUTOR_OPTIONS = List.of("--conf", "spark.executor.defaultJavaOptions=" + QUICK_JIT);

  private Launcher() {}

  /** Exit code and output of one run. */
  record Run(int code, String out) {}

  /** {@code bin/<script> args...} started with {@code env} added to this JVM's environment; output to {@code log}. */
  static Process start(Path log, Map<String, String> env, String script, List<String> args) throws IOException {
    List<String> argv = new ArrayList<>(List.of(ROOT.resolve("bin").resolve(script).toString()));
    argv.addAll(args);
    return command(log, env, argv);
  }

  /** Any command line, run in the checkout's folder like {@link #start}. */
  static Process command(Path log, Map<String, String> env, List<String> argv) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(argv).directory(ROOT.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().put("NIGHTSCORE_REBUILD", "0");
    pb.environment().putAll(env);
    pb.environment().put("NIGHTSCORE_JAVA_OPTS", (QUICK_JIT + " " + env.getOrDefault("NIGHTSCORE_JAVA_OPTS", "")).trim());
    return pb.start();
  }

  /** Waits for a started run (at most 10 minutes) and reads its output. */
  static Run finish(Process p, Path log) throws IOException, InterruptedException {
    if (!p.waitFor(10, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError(log.getFileName() + ": no exit in 10 minutes; see " + log);
    }
    return new Run(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
  }

  static Run run(Path log, Map<String, String> env, String script, List<String> args)
      throws IOException, InterruptedException {
    return finish(start(log, env, script, args), log);
  }
}
