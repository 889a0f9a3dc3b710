package io.infergate.common.registry;

import io.infergate.proto.registry.ModelOverrides;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * An immutable picture of every model the cluster serves. Gateways read it on the event loop
 * with no I/O; the registry swaps in a new snapshot on every change.
 */
public record RoutingSnapshot(Map<String, ModelView> models, Map<String, ModelOverrides> overrides) {

  public static final RoutingSnapshot EMPTY = new RoutingSnapshot(Map.of(), Map.of());

  public RoutingSnapshot {
    models = java.util.Collections.unmodifiableMap(new TreeMap<>(models));
    overrides = Map.copyOf(overrides);
  }

  public RoutingSnapshot(Map<String, ModelView> models) {
    this(models, Map.of());
  }

  /** The versions of a model an operator pinned: true to load, false to unload. */
  public Map<Long, Boolean> pins(String model) {
    ModelOverrides override = overrides.get(model);
    return override == null ? Map.of() : override.getPinsMap();
  }

  public Optional<ModelView> model(String name) {
    return Optional.ofNullable(models.get(name));
  }

  /**
   * Whether a gateway may take traffic: every known model has a version that can, or has failed
   * to load for good. A model still loading is waited for; a broken one is not, or it would take
   * every gateway, and with them every other model, out of service until someone fixed it.
   */
  public boolean allModelsSettled() {
    return models.values().stream().allMatch(model -> model.isReady() || model.hasFailed());
  }
}
