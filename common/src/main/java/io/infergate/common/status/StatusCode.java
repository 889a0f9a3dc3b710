package io.infergate.common.status;

/**
 * The canonical status codes shared by TensorFlow Serving, gRPC and the event bus, with the
 * HTTP status TF Serving's http_server.cc gives each. The enum ordinal is never used: the
 * canonical number travels in event-bus failures and gRPC statuses.
 */
public enum StatusCode {
  OK(0, 200),
  CANCELLED(1, 499),
  UNKNOWN(2, 500),
  INVALID_ARGUMENT(3, 400),
  DEADLINE_EXCEEDED(4, 504),
  NOT_FOUND(5, 404),
  ALREADY_EXISTS(6, 409),
  PERMISSION_DENIED(7, 403),
  RESOURCE_EXHAUSTED(8, 429),
  FAILED_PRECONDITION(9, 400),
  ABORTED(10, 409),
  OUT_OF_RANGE(11, 400),
  UNIMPLEMENTED(12, 501),
  INTERNAL(13, 500),
  UNAVAILABLE(14, 503),
  DATA_LOSS(15, 500),
  UNAUTHENTICATED(16, 401);

  private static final StatusCode[] BY_NUMBER = new StatusCode[17];

  static {
    for (StatusCode code : values()) {
      BY_NUMBER[code.number] = code;
    }
  }

  private final int number;
  private final int httpStatus;

  StatusCode(int number, int httpStatus) {
    this.number = number;
    this.httpStatus = httpStatus;
  }

  /** The canonical (gRPC) code number. */
  public int number() {
    return number;
  }

  public int httpStatus() {
    return httpStatus;
  }

  /** The code for a canonical number; anything unknown is UNKNOWN, as gRPC does. */
  public static StatusCode ofNumber(int number) {
    return number >= 0 && number < BY_NUMBER.length ? BY_NUMBER[number] : UNKNOWN;
  }
}
