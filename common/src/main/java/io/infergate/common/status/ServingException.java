package io.infergate.common.status;

/**
 * An expected failure with its canonical status. Carried by failed futures and mapped to
 * HTTP, gRPC and event-bus failure codes in one place each.
 */
public final class ServingException extends RuntimeException {

  private final StatusCode code;
  private final long retryAfterSeconds;

  /** @param message what went wrong; a blank one is replaced by the code's name, so no answer is ever empty */
  public ServingException(StatusCode code, String message) {
    this(code, message, 1);
  }

  private ServingException(StatusCode code, String message, long retryAfterSeconds) {
    super(message == null || message.isBlank() ? code.name() : message, null, false, false);
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public StatusCode code() {
    return code;
  }

  /** For an overload answer (429, 503): when the client may try again, in whole seconds (at least 1). */
  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }

  /** RESOURCE_EXHAUSTED with the time after which the client's quota has room again. */
  public static ServingException quotaExceeded(String message, long retryAfterMillis) {
    return new ServingException(StatusCode.RESOURCE_EXHAUSTED, message, Math.max(1, (retryAfterMillis + 999) / 1000));
  }

  public static ServingException invalidArgument(String message) {
    return new ServingException(StatusCode.INVALID_ARGUMENT, message);
  }

  public static ServingException notFound(String message) {
    return new ServingException(StatusCode.NOT_FOUND, message);
  }

  public static ServingException unavailable(String message) {
    return new ServingException(StatusCode.UNAVAILABLE, message);
  }

  /** The status of any throwable: its own code if it is a ServingException, else INTERNAL. */
  public static ServingException of(Throwable failure) {
    if (failure instanceof ServingException serving) {
      return serving;
    }
    String message = failure.getMessage();
    return new ServingException(StatusCode.INTERNAL,
        message == null || message.isBlank() ? failure.getClass().getSimpleName() : message);
  }
}
