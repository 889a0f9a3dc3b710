package io.infergate.gateway.dispatch;

import io.infergate.common.ServableId;
import io.infergate.common.bus.Addresses;
import io.infergate.common.bus.BusFailures;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;

/** Sends a request to the worker serving a servable and waits no longer than its deadline. */
public final class WorkerClient {

  private final EventBus eventBus;

  public WorkerClient(EventBus eventBus) {
    this.eventBus = eventBus;
  }

  public <T> Future<T> request(ServableId servable, Object request, long timeoutMillis) {
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(Math.max(1, timeoutMillis));
    return eventBus.<T>request(Addresses.servable(servable), request, options)
        .map(Message::body)
        .recover(failure -> Future.failedFuture(BusFailures.toStatus(failure, servable.toString())));
  }
}
