package io.infergate.gateway.dispatch;

import io.infergate.common.ServableId;
import io.infergate.common.bus.Addresses;
import io.infergate.common.bus.BusFailures;
import io.infergate.common.bus.Deadlines;
import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import java.util.function.Supplier;

/**
 * Sends a request to the worker serving a servable, with the request's remaining deadline.
 * When the servable stopped taking requests between routing and sending (a version
 * transition), the route is resolved again and the request sent once more: inference is
 * idempotent, and this is what keeps version changes free of failed requests.
 */
public final class WorkerClient {

  private final EventBus eventBus;

  public WorkerClient(EventBus eventBus) {
    this.eventBus = eventBus;
  }

  /** A worker's answer and the servable that gave it. */
  public record Served<T>(T response, ServableId servable) {}

  public <T> Future<Served<T>> request(Supplier<ServableId> route, Object request, long deadlineNanos) {
    ServableId first = route.get();
    return this.<T>send(first, request, deadlineNanos).recover(failure -> {
      if (isUnserved(failure, deadlineNanos)) {
        ServableId second = route.get();
        if (!second.equals(first)) {
          return this.<T>send(second, request, deadlineNanos)
              .recover(again -> Future.failedFuture(BusFailures.toStatus(again, second.toString())));
        }
      }
      return Future.failedFuture(BusFailures.toStatus(failure, first.toString()));
    });
  }

  private <T> Future<Served<T>> send(ServableId servable, Object request, long deadlineNanos) {
    long remainingMillis = (deadlineNanos - System.nanoTime()) / 1_000_000;
    return eventBus.<T>request(Addresses.servable(servable), request, Deadlines.deliveryOptions(remainingMillis))
        .map(reply -> new Served<>(reply.body(), servable));
  }

  /**
   * No consumer took the message: none was registered, or the one it reached was unregistered
   * before handling it (Vert.x then fails the request as timed out, long before its deadline).
   */
  private static boolean isUnserved(Throwable failure, long deadlineNanos) {
    if (!(failure instanceof ReplyException reply)) {
      return false;
    }
    return reply.failureType() == ReplyFailure.NO_HANDLERS
        || reply.failureType() == ReplyFailure.TIMEOUT && deadlineNanos - System.nanoTime() > 1_000_000;
  }
}
