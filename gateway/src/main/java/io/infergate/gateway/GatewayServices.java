package io.infergate.gateway;

import io.infergate.common.TensorLimits;
import io.infergate.common.bus.LocalServables;
import io.infergate.common.registry.ModelRegistry;
import io.infergate.gateway.admission.ExpiryWatch;
import io.infergate.gateway.dispatch.Shadowing;
import io.infergate.gateway.features.FeatureEnricher;
import io.infergate.gateway.dispatch.WorkerClient;
import io.infergate.gateway.metrics.RequestMetrics;
import io.infergate.gateway.routing.RequestRouter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;

/** What every protocol of one gateway verticle shares: routing, dispatch, shadowing, metrics and deadlines. */
public record GatewayServices(ModelRegistry registry, RequestRouter router, WorkerClient workers,
                              Shadowing shadowing, RequestMetrics metrics, PrometheusMeterRegistry prometheus,
                              FeatureEnricher features, Drain drain, ExpiryWatch expiry) {

  /**
   * @param features the process's feature enricher, or null when no model takes features
   * @param local the servables of this process's worker (none in a gateway-only process)
   * @param drain whether the process is shutting down
   */
  public static GatewayServices create(Vertx vertx, GatewayOptions options, ModelRegistry registry,
                                       PrometheusMeterRegistry prometheus, FeatureEnricher features,
                                       LocalServables local, Drain drain) {
    RequestRouter router = new RequestRouter(registry, prometheus);
    ExpiryWatch expiry = new ExpiryWatch(vertx);
    // A tensor may not be larger than the largest request could carry (a value repeated to fill a shape included).
    TensorLimits limits = new TensorLimits(Math.max(options.limits().maxRequestBodyBytes(),
        options.limits().grpcMaxMessageBytes()));
    WorkerClient workers = new WorkerClient(vertx, registry, local, expiry, limits);
    return new GatewayServices(registry, router, workers, new Shadowing(router, workers, prometheus),
        new RequestMetrics(prometheus, registry), prometheus, features, drain, expiry);
  }

  /**
   * Ready while this gateway sees the cluster, every known model has an available version, and
   * the process is not shutting down.
   */
  public boolean ready() {
    return !drain.isDraining() && registry.isConnected() && registry.snapshot().allModelsReady();
  }
}
