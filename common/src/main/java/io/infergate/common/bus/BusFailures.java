package io.infergate.common.bus;

import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;

/** Maps statuses onto event-bus failures and back: the failure code is the canonical number. */
public final class BusFailures {

  /**
   * Failure code (outside the canonical statuses) of a worker that no longer takes a servable
   * it is unloading: the request was not run, and the caller should send it elsewhere.
   */
  public static final int STOPPING = -1;

  private BusFailures() {}

  /** Refuses a request for a servable this worker is unloading, without running it. */
  public static void stopping(Message<?> message, String servable) {
    message.fail(STOPPING, "This worker is unloading " + servable);
  }

  /** Whether the request failed because its worker was unloading the servable (it did not run). */
  public static boolean isStopping(ReplyException reply) {
    return reply.failureType() == io.vertx.core.eventbus.ReplyFailure.RECIPIENT_FAILURE
        && reply.failureCode() == STOPPING;
  }

  /** Fails a request message with the status of {@code failure}. */
  public static void reply(Message<?> message, Throwable failure) {
    ServingException status = ServingException.of(failure);
    message.fail(status.code().number(), status.getMessage());
  }

  /** The status of a failed event-bus request, as the caller should see it. */
  public static ServingException toStatus(Throwable failure, String target) {
    if (!(failure instanceof ReplyException reply)) {
      return ServingException.of(failure);
    }
    return switch (reply.failureType()) {
      case RECIPIENT_FAILURE -> reply.failureCode() == STOPPING
          ? new ServingException(StatusCode.UNAVAILABLE, reply.getMessage())
          : new ServingException(StatusCode.ofNumber(reply.failureCode()), reply.getMessage());
      case TIMEOUT -> new ServingException(StatusCode.DEADLINE_EXCEEDED,
          "Deadline exceeded while waiting for " + target);
      case NO_HANDLERS -> new ServingException(StatusCode.UNAVAILABLE,
          "No worker is serving " + target);
      default -> new ServingException(StatusCode.INTERNAL, reply.getMessage());
    };
  }
}
