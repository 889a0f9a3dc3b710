package io.infergate.gateway;

import io.infergate.common.TensorLimits;
import io.infergate.common.registry.ModelRegistry;
import io.infergate.gateway.admission.Admission;
import io.infergate.gateway.admission.ExpiryWatch;
import io.infergate.gateway.dispatch.Shadowing;
import io.infergate.gateway.features.FeatureEnricher;
import io.infergate.gateway.policy.ServingPolicies;
import io.infergate.gateway.dispatch.WorkerClient;
import io.infergate.gateway.metrics.RequestMetrics;
import io.infergate.gateway.pipeline.InferencePipeline;
import io.infergate.gateway.readiness.Warmth;
import io.infergate.gateway.routing.SnapshotRouter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;

/**
 * What every protocol of one gateway verticle shares: the inference pipeline, routing for
 * queries, metrics, deadlines, and the process's shared services.
 */
public record GatewayServices(ModelRegistry registry, SnapshotRouter router, InferencePipeline pipeline,
                              RequestMetrics metrics, PrometheusMeterRegistry prometheus,
                              FeatureEnricher features, Drain drain, Warmth warmth, ExpiryWatch expiry, Admission admission,
                              ServingPolicies policies) {

  public static GatewayServices create(Vertx vertx, GatewayOptions options, SharedServices shared) {
    SnapshotRouter router = new SnapshotRouter(shared.registry(), shared.prometheus());
    ExpiryWatch expiry = new ExpiryWatch(vertx);
    // A tensor may not be larger than the largest request could carry (a value repeated to fill a shape included).
    TensorLimits limits = new TensorLimits(Math.max(options.limits().maxRequestBodyBytes(),
        options.limits().grpcMaxMessageBytes()));
    WorkerClient workers = new WorkerClient(vertx, shared.registry(), shared.local(), expiry, limits,
        shared.admission());
    InferencePipeline pipeline = new InferencePipeline(router, shared.features(),
        new Shadowing(router, workers, shared.prometheus()), workers, shared.coldStarts(), shared.policy());
    return new GatewayServices(shared.registry(), router, pipeline,
        new RequestMetrics(shared.prometheus(), shared.registry()), shared.prometheus(), shared.features(),
        shared.drain(), shared.warmth(), expiry, shared.admission(), shared.policy().policies());
  }

  /**
   * Ready while this gateway sees the cluster, every known model has an available version, the
   * request path has been warmed up, and the process is not shutting down.
   */
  public boolean ready() {
    return !drain.isDraining() && warmth.isWarm() && registry.isConnected() && registry.snapshot().allModelsSettled();
  }
}
