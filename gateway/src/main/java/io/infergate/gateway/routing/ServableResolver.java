package io.infergate.gateway.routing;

import io.infergate.common.registry.ModelView;
import io.infergate.common.registry.RoutingSnapshot;
import io.infergate.common.registry.ServableRecord;
import io.infergate.common.status.ServingException;

/**
 * Turns a model name and a {@link VersionSelector} into the servable that takes the request,
 * reading only the immutable routing snapshot: no I/O, safe on an event loop.
 */
public final class ServableResolver {

  private ServableResolver() {}

  /** The available servable that serves the request, or NOT_FOUND as TF Serving words it. */
  public static ServableRecord resolve(RoutingSnapshot snapshot, String model, VersionSelector selector) {
    return selector.select(model(snapshot, model, selector))
        .filter(ServableRecord::isAvailable)
        .orElseThrow(() -> notFound(model, selector));
  }

  /** The model, or NOT_FOUND. */
  public static ModelView model(RoutingSnapshot snapshot, String model, VersionSelector selector) {
    return snapshot.model(model).orElseThrow(() -> notFound(model, selector));
  }

  public static ServingException notFound(String model, VersionSelector selector) {
    return ServingException.notFound("Servable not found for request: " + selector.describe(model));
  }
}
