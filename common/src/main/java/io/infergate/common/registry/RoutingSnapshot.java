package io.infergate.common.registry;

import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * An immutable picture of every model the cluster serves. Gateways read it on the event loop
 * with no I/O; the registry swaps in a new snapshot on every change.
 */
public record RoutingSnapshot(Map<String, ModelView> models) {

  public static final RoutingSnapshot EMPTY = new RoutingSnapshot(Map.of());

  public RoutingSnapshot {
    models = java.util.Collections.unmodifiableMap(new TreeMap<>(models));
  }

  public Optional<ModelView> model(String name) {
    return Optional.ofNullable(models.get(name));
  }

  /** Ready when every known model has a version that can take traffic. */
  public boolean allModelsReady() {
    return models.values().stream().allMatch(ModelView::isReady);
  }
}
