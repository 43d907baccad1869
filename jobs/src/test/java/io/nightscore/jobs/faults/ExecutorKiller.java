package io.nightscore.jobs.faults;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerApplicationStart;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskStart;

/**
 * A driver-side listener that kills one executor process with SIGKILL when the Nth task of a matching stage
 * starts on it: deterministic executor loss for the fault tests, on a cluster whose executors run on this
 * machine. Loaded by a test into a {@code bin/nightscore} driver through {@code --jars} and
 * {@code -Dspark.extraListeners}; it prints what it did on stderr, prefixed {@code executor-killer:}.
 *
 * <p>Settings (Spark system properties): {@code spark.nightscore.test.killStage}, a regular expression a stage's
 * name must contain (default: any stage); {@code spark.nightscore.test.killAtTask}, which task start of the
 * matching stages triggers the kill (default 1); {@code spark.nightscore.test.killDelayMs}, how long after that
 * task's start (default 0).
 */
public final class ExecutorKiller extends SparkListener {
  public static final String STAGE = "spark.nightscore.test.killStage";
  public static final String AT_TASK = "spark.nightscore.test.killAtTask";
  public static final String DELAY = "spark.nightscore.test.killDelayMs";

  private final Pattern stage;
  private final int atTask;
  private final long delayMs;
  private final AtomicInteger started = new AtomicInteger();
  private final AtomicBoolean fired = new AtomicBoolean();
  private final ConcurrentHashMap<Integer, String> matching = new ConcurrentHashMap<>();
  private volatile String appId;

  public ExecutorKiller(SparkConf conf) {
    this.stage = Pattern.compile(conf.get(STAGE, ""));
    this.atTask = conf.getInt(AT_TASK, 1);
    this.delayMs = conf.getLong(DELAY, 0);
    this.appId = conf.getOption("spark.app.id").getOrElse(() -> null);
  }

  @Override
  public void onApplicationStart(SparkListenerApplicationStart start) {
    if (start.appId().isDefined()) {
      appId = start.appId().get();
    }
  }

  @Override
  public void onStageSubmitted(SparkListenerStageSubmitted submitted) {
    String name = submitted.stageInfo().name();
    boolean match = stage.matcher(name).find();
    if (match) {
      matching.put(submitted.stageInfo().stageId(), name);
    }
    System.err.println("executor-killer: stage " + submitted.stageInfo().stageId() + " '" + name + "' "
        + submitted.stageInfo().numTasks() + " tasks" + (match ? " (matches)" : ""));
  }

  @Override
  public void onTaskStart(SparkListenerTaskStart task) {
    String name = matching.get(task.stageId());
    if (name == null || fired.get() || started.incrementAndGet() != atTask) {
      return;
    }
    fired.set(true);
    Thread kill = new Thread(() -> kill(task, name), "executor-killer");
    kill.setDaemon(true);
    kill.start();
  }

  private void kill(SparkListenerTaskStart task, String name) {
    try {
      Thread.sleep(delayMs);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    String executor = task.taskInfo().executorId();
    List<ProcessHandle> found = ProcessHandle.allProcesses().filter(p -> isExecutor(p, executor)).toList();
    for (ProcessHandle p : found) {
      p.destroyForcibly();
    }
    System.err.println("executor-killer: killed executor " + executor + " (pids "
        + found.stream().map(p -> String.valueOf(p.pid())).toList() + ") at task " + task.taskInfo().taskId()
        + " of stage " + task.stageId() + " '" + name + "', " + delayMs + " ms after it started");
  }

  private boolean isExecutor(ProcessHandle p, String executor) {
    Optional<String[]> args = p.info().arguments();
    if (args.isEmpty()) {
      return false;
    }
    List<String> a = List.of(args.get());
    int id = a.indexOf("--executor-id");
    int app = a.indexOf("--app-id");
    return a.stream().anyMatch(s -> s.endsWith("CoarseGrainedExecutorBackend")) && id >= 0 && app >= 0
        && a.get(id + 1).equals(executor) && a.get(app + 1).equals(appId);
  }
}
