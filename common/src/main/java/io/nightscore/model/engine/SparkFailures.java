package io.nightscore.model.engine;

/**
 * Which Spark failure an exception is, read from the messages Spark's scheduler writes (Spark 3.5's
 * {@code DAGScheduler} and {@code TaskSchedulerImpl}): they are not an API, so an upgrade re-checks them with the
 * rest of this package ({@link EngineVersions}).
 */
public final class SparkFailures {
  private SparkFailures() {}

  /** A barrier stage could not get all its task slots at once (SPARK-24819). */
  public static boolean barrierSlotsUnavailable(Throwable e) {
    return causedBy(e, "SPARK-24819");
  }

  /**
   * A barrier stage failed in every attempt Spark made ({@code spark.stage.maxConsecutiveAttempts}): Spark reruns a
   * failed barrier stage as a whole, so this is what is left once its retries are used up.
   */
  public static boolean barrierStageFailed(Throwable e) {
    return causedBy(e, "barrier task");
  }

  /** The first line of an exception's message (Spark's carry whole stack traces below it). */
  public static String firstLine(Throwable e) {
    String msg = String.valueOf(e.getMessage());
    int cut = msg.indexOf('\n');
    return cut > 0 ? msg.substring(0, cut) : msg;
  }

  private static boolean causedBy(Throwable e, String text) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (String.valueOf(t.getMessage()).contains(text)) {
        return true;
      }
    }
    return false;
  }
}
