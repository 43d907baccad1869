package io.nightscore.jobs;

/** A job stopped on purpose with a message for the user (exit code 1); no stack trace needed. */
public final class JobFailedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public JobFailedException(String message) {
    super(message);
  }
}
