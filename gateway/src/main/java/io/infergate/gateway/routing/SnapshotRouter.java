package io.infergate.gateway.routing;

import io.infergate.common.metrics.MetricNames;
import io.infergate.common.registry.ModelRegistry;
import io.infergate.common.registry.ServableRecord;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

/**
 * Routes each request against the registry's current snapshot (the choice itself is
 * {@link ServableChoice}'s) and counts requests per model and variant of its A/B split.
 */
public final class SnapshotRouter {

  private final ModelRegistry registry;
  private final MeterRegistry meters;
  private final Map<List<String>, Counter> variants = new ConcurrentHashMap<>();

  public SnapshotRouter(ModelRegistry registry, MeterRegistry meters) {
    this.registry = registry;
    this.meters = meters;
  }

  public ModelRegistry registry() {
    return registry;
  }

  /** The servable that takes a request, following the model's traffic policy when it names no version. */
  public ServableRecord route(String model, VersionSelector selector, UnaryOperator<String> headers) {
    ServableChoice.Routed routed = ServableChoice.route(registry.snapshot(), model, selector, headers);
    variants.computeIfAbsent(List.of(model, routed.variant()), key -> Counter.builder(MetricNames.VARIANT_REQUESTS)
            .description("Requests routed per model and variant of its traffic policy")
            .tags("model", key.get(0), "variant", key.get(1))
            .register(meters))
        .increment();
    return routed.servable();
  }

  /** The servable a version or label names, ignoring traffic policies (status, metadata). */
  public ServableRecord resolve(String model, VersionSelector selector) {
    return ServableResolver.resolve(registry.snapshot(), model, selector);
  }
}
