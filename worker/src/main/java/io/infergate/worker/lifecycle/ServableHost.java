package io.infergate.worker.lifecycle;

import io.infergate.common.ServableId;
import io.vertx.core.Future;

/**
 * Whatever puts loaded servables in front of traffic, and takes them away again.
 *
 * @param <S> what it serves
 */
public interface ServableHost<S extends LoadedServable> {

  /** Starts taking requests for a loaded, warmed-up servable. */
  Future<Void> serve(S servable);

  /** Stops taking new requests for a servable and completes once those in flight are done. */
  Future<Void> stopServing(ServableId id);

  /** Requests the host holds for any version of the model, waiting or running; paging evicts only idle models. */
  default int requestsInFlight(String model) {
    return 0;
  }

  /** When the host last took a request for the model ({@link System#nanoTime()}), for least-recently-used eviction. */
  default long lastUsedNanos(String model) {
    return Long.MIN_VALUE;
  }
}
