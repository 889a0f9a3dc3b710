package io.infergate.app;

import io.infergate.common.bus.BusCodecs;
import io.infergate.common.registry.LocalModelRegistry;
import io.infergate.common.registry.ModelRegistry;
import io.infergate.gateway.GatewayVerticle;
import io.infergate.worker.WorkerVerticle;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single-process server: a worker and the gateway in one JVM on the local event bus.
 * Models load first; the REST port opens only once they are in, as TF Serving does.
 */
public final class InfergateServer {

  private static final Logger LOG = LoggerFactory.getLogger(InfergateServer.class);

  private final Vertx vertx;
  private final ModelRegistry registry;
  private final int restPort;
  private final int grpcPort;

  private InfergateServer(Vertx vertx, ModelRegistry registry, int restPort, int grpcPort) {
    this.vertx = vertx;
    this.registry = registry;
    this.restPort = restPort;
    this.grpcPort = grpcPort;
  }

  static Future<InfergateServer> start(ServeOptions options) {
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(options.eventLoops()));
    BusCodecs.register(vertx.eventBus());
    ModelRegistry registry = new LocalModelRegistry();
    PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    AtomicReference<GatewayVerticle> firstGateway = new AtomicReference<>();
    String version = InfergateServer.class.getPackage().getImplementationVersion();

    return vertx.deployVerticle(new WorkerVerticle(options.worker(), registry, prometheus, LocalModelRegistry.LOCAL_WORKER))
        .compose(worker -> vertx.deployVerticle(() -> {
          GatewayVerticle gateway = new GatewayVerticle(options.gateway(version == null ? "dev" : version),
              registry, prometheus);
          firstGateway.compareAndSet(null, gateway);
          return gateway;
        }, new DeploymentOptions().setInstances(options.eventLoops())))
        .map(gateways -> {
          GatewayVerticle gateway = firstGateway.get();
          InfergateServer server = new InfergateServer(vertx, registry, gateway.actualPort(), gateway.actualGrpcPort());
          LOG.info("Infergate is serving REST on port {} and gRPC on port {}", server.restPort(),
              server.grpcPort() == 0 ? "(off)" : server.grpcPort());
          return server;
        })
        .recover(failure -> {
          // Fail now: a listener on close() would run on an event loop that close() stops.
          vertx.close();
          return Future.failedFuture(failure);
        });
  }

  public int restPort() {
    return restPort;
  }

  /** The gRPC port, 0 when gRPC is off. */
  public int grpcPort() {
    return grpcPort;
  }

  public ModelRegistry registry() {
    return registry;
  }

  /** Stops taking requests, unloads every model and frees its native memory. */
  public Future<Void> close() {
    return vertx.close();
  }
}
