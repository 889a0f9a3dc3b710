package io.infergate.gateway.routing;

import io.infergate.common.registry.ModelView;
import io.infergate.common.registry.RoutingSnapshot;
import io.infergate.common.registry.ServableRecord;
import io.infergate.common.status.ServingException;
import io.infergate.proto.registry.TrafficPolicy;
import io.infergate.proto.registry.TrafficTarget;
import io.infergate.proto.registry.WeightedTarget;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.UnaryOperator;
import java.util.zip.CRC32;

/**
 * Chooses the servable of a request from the routing snapshot, with no I/O. A request that
 * names a version or label gets it; one that names neither follows the model's traffic policy
 * (a weighted split over versions and labels, sticky per header value when set), or else the
 * latest available version.
 */
public final class ServableChoice {

  /** The default variant: no traffic policy applied. */
  public static final String DEFAULT_VARIANT = "default";

  private ServableChoice() {}

  /** The chosen servable and the variant that chose it (for metrics). */
  public record Routed(ServableRecord servable, String variant) {}

  /** @param headers the request's header (or gRPC metadata) values by name */
  public static Routed route(RoutingSnapshot snapshot, String model, VersionSelector selector,
                             UnaryOperator<String> headers) {
    ModelView view = ServableResolver.model(snapshot, model, selector);
    TrafficPolicy policy = view.traffic();
    if (!(selector instanceof VersionSelector.Latest) || policy.getSplitCount() == 0) {
      return new Routed(ServableResolver.resolve(snapshot, model, selector), DEFAULT_VARIANT);
    }
    TrafficTarget target = pick(policy, headers);
    return new Routed(ServableResolver.resolve(snapshot, model, selector(target)), describe(target));
  }

  public static VersionSelector selector(TrafficTarget target) {
    return target.hasLabel() ? new VersionSelector.Label(target.getLabel())
        : new VersionSelector.Specific(target.getVersion());
  }

  public static String describe(TrafficTarget target) {
    return target.hasLabel() ? "label:" + target.getLabel() : "version:" + target.getVersion();
  }

  /** A point in [0, total weight): the hash of the sticky header's value, else a random one. */
  private static TrafficTarget pick(TrafficPolicy policy, UnaryOperator<String> headers) {
    long total = policy.getSplitList().stream().mapToLong(WeightedTarget::getWeight).sum();
    if (total <= 0) {
      throw ServingException.unavailable("The traffic policy has no weight");
    }
    String sticky = policy.getStickyHeader().isEmpty() ? null : headers.apply(policy.getStickyHeader());
    long point;
    if (sticky != null) {
      CRC32 hash = new CRC32();
      hash.update(sticky.getBytes(StandardCharsets.UTF_8));
      point = hash.getValue() % total;
    } else {
      point = ThreadLocalRandom.current().nextLong(total);
    }
    for (WeightedTarget weighted : policy.getSplitList()) {
      point -= weighted.getWeight();
      if (point < 0) {
        return weighted.getTarget();
      }
    }
    return policy.getSplit(policy.getSplitCount() - 1).getTarget();
  }
}
