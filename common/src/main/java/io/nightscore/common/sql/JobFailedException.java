package io.nightscore.common.sql;

/** A job stopped on purpose with a message for the user (exit code 1); no stack trace needed. */
public final class JobFailedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public JobFailedException(String message) {
    super(message);
  }

  /** With the exception that caused it, kept for the log. */
  public JobFailedException(String message, Throwable cause) {
    super(message, cause);
  }

  /** Throws when a check reported a problem (non-null message). */
  public static void unless(String problem) {
    if (problem != null) {
      throw new JobFailedException(problem);
    }
  }
}
