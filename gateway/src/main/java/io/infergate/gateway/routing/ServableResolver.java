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

  /**
   * The available servable that serves the request; NOT_FOUND as TF Serving words it, or
   * UNAVAILABLE when the model is known but no worker holds any version of it right now.
   */
  public static ServableRecord resolve(RoutingSnapshot snapshot, String model, VersionSelector selector) {
    ModelView view = model(snapshot, model, selector);
    if (view.versions().isEmpty() && selector instanceof VersionSelector.Latest) {
      throw ServingException.unavailable("No worker is serving any version of model " + model);
    }
    return selector.select(view)
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
