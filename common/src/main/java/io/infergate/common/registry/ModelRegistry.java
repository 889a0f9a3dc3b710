package io.infergate.common.registry;

import io.infergate.common.ServableId;
import io.vertx.core.Future;
import io.infergate.proto.registry.ModelOverrides;
import java.util.Map;

/**
 * The shared record of which servables exist on which workers, in which state, how versions
 * are labelled and how traffic is split. Workers write their own servables as they load and
 * unload; gateways route from {@link #snapshot()}.
 */
public interface ModelRegistry {

  /** The current picture; never blocks. */
  RoutingSnapshot snapshot();

  /**
   * Calls {@code listener} after every change of the snapshot: on the Vert.x context it
   * subscribed from, or, subscribed off Vert.x, on whatever thread made the change.
   */
  Subscription onChange(Runnable listener);

  /** A listener's subscription; closing it stops the calls. */
  interface Subscription extends AutoCloseable {
    @Override
    void close();
  }

  /** Whether this member still sees the cluster; a gateway that does not is not ready. */
  default boolean isConnected() {
    return true;
  }

  /** Records (or replaces) what is known of one servable. */
  Future<Void> publish(ServableRecord record);

  /**
   * Records that this worker can load a version on request (it is pageable, not loaded):
   * {@code memoryBytes} as last measured (0 if never loaded), {@code freeBytes} the worker's
   * budget left. Loading it publishes its states over this record.
   */
  Future<Void> publishPageable(ServableId id, long memoryBytes, long freeBytes);

  /** Forgets a servable once it has left service for good. */
  Future<Void> remove(ServableId id);

  /** Replaces the version labels a model's config gives it (an operator's overrides stay on top). */
  Future<Void> setLabels(String model, Map<String, Long> labels);

  /**
   * Changes an operator's overrides of a model (labels that win over the config's, versions
   * pinned loaded or unloaded, the traffic policy). They outlive the model's workers, their configs and restarts.
   */
  Future<Void> updateOverrides(String model, java.util.function.UnaryOperator<ModelOverrides> change);

  /** Forgets this worker's servables of a model (and the model, once no worker serves it). */
  Future<Void> removeModel(String model);
}
