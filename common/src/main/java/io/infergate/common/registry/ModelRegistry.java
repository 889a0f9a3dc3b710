package io.infergate.common.registry;

import io.infergate.common.ServableId;
import io.vertx.core.Future;
import java.util.Map;

/**
 * The shared record of which servables exist, in which state, and how versions are labelled.
 * Workers write it as they load and unload; gateways route from {@link #snapshot()}.
 */
public interface ModelRegistry {

  /** The current picture; never blocks. */
  RoutingSnapshot snapshot();

  /** Records (or replaces) what is known of one servable. */
  Future<Void> publish(ServableRecord record);

  /** Forgets a servable once it has left service for good. */
  Future<Void> remove(ServableId id);

  /** Replaces a model's version labels. */
  Future<Void> setLabels(String model, Map<String, Long> labels);

  /** Forgets a model and all its servables. */
  Future<Void> removeModel(String model);
}
