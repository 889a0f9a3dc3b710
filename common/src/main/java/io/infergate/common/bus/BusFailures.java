package io.infergate.common.bus;

import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;

/** Maps statuses onto event-bus failures and back: the failure code is the canonical number. */
public final class BusFailures {

  private BusFailures() {}

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
      case RECIPIENT_FAILURE ->
          new ServingException(StatusCode.ofNumber(reply.failureCode()), reply.getMessage());
      case TIMEOUT -> new ServingException(StatusCode.DEADLINE_EXCEEDED,
          "Deadline exceeded while waiting for " + target);
      case NO_HANDLERS -> new ServingException(StatusCode.UNAVAILABLE,
          "No worker is serving " + target);
      default -> new ServingException(StatusCode.INTERNAL, reply.getMessage());
    };
  }
}
