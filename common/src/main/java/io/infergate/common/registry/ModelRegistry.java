package io.infergate.common.registry;

import io.infergate.common.ServableId;
import io.vertx.core.Future;
import java.util.Map;

/**
 * The shared record of which servables exist on which workers, in which state, how versions
 * are labelled and how traffic is split. Workers write their own servables as they load and
 * unload; gateways route from {@link #snapshot()}.
 */
public interface ModelRegistry {

  /** The current picture; never blocks. */
  RoutingSnapshot snapshot();

  /** Calls {@code listener} after every change of the snapshot, on whatever thread made it. */
  void onChange(Runnable listener);

  /** Whether this member still sees the cluster; a gateway that does not is not ready. */
  default boolean isConnected() {
    return true;
  }

  /** Records (or replaces) what is known of one servable. */
  Future<Void> publish(ServableRecord record);

  /** Forgets a servable once it has left service for good. */
  Future<Void> remove(ServableId id);

  /** Replaces a model's version labels. */
  Future<Void> setLabels(String model, Map<String, Long> labels);

  /** Sets how requests that name no version or label are spread over the model's versions. */
  Future<Void> setTrafficPolicy(String model, io.infergate.proto.registry.TrafficPolicy policy);

  /** Forgets this worker's servables of a model (and the model, once no worker serves it). */
  Future<Void> removeModel(String model);
}
