package io.infergate.gateway;

import io.infergate.common.bus.LocalServables;
import io.infergate.common.registry.ModelRegistry;
import io.infergate.gateway.features.FeatureEnricher;
import io.infergate.gateway.grpc.GrpcApi;
import io.infergate.gateway.metrics.EventLoopLag;
import io.infergate.gateway.rest.RestServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;

/**
 * One event loop's share of the gateway. Deploy one instance per core: Vert.x spreads the
 * shared REST port's connections across them.
 */
public final class GatewayVerticle extends VerticleBase {

  private final GatewayOptions options;
  private final ModelRegistry registry;
  private final PrometheusMeterRegistry prometheus;
  private final FeatureEnricher features;
  private final LocalServables local;
  private final Drain drain;
  private HttpServer server;
  private HttpServer grpc;

  /**
   * @param features the process's feature enricher (shared by all gateway verticles), or null
   * @param local the servables of this process's worker, called without the event bus
   * @param drain whether the process is shutting down (then not ready)
   */
  public GatewayVerticle(GatewayOptions options, ModelRegistry registry, PrometheusMeterRegistry prometheus,
                         FeatureEnricher features, LocalServables local, Drain drain) {
    this.local = local;
    this.drain = drain;
    this.options = options;
    this.registry = registry;
    this.prometheus = prometheus;
    this.features = features;
  }

  @Override
  public Future<?> start() {
    GatewayServices services = GatewayServices.create(vertx, options, registry, prometheus, features, local, drain);
    EventLoopLag.start(vertx, prometheus);
    GatewayOptions.Listen listen = options.listen();
    server = vertx.createHttpServer(serverOptions()
        .setHost(listen.restHost())
        .setPort(listen.restPort())
        .setCompressionSupported(false));
    Future<?> rest = server.requestHandler(RestServer.handler(vertx, options, services)).listen();
    if (listen.grpcPort() == 0) {
      return rest;
    }
    grpc = vertx.createHttpServer(serverOptions()
        .setHost(listen.grpcHost())
        .setPort(listen.grpcPort())
        .setUseAlpn(false)
        .setHttp2ClearTextEnabled(true));
    return Future.all(rest, grpc.connectionHandler(GrpcApi::onConnection)
        .requestHandler(GrpcApi.server(vertx, options, services)).listen());
  }

  /** What both servers share: connection limits. */
  private HttpServerOptions serverOptions() {
    return new HttpServerOptions().setIdleTimeout(options.limits().idleTimeoutSeconds());
  }

  /** The REST port actually bound (useful when the configured port is 0). */
  public int actualPort() {
    return server.actualPort();
  }

  /** The gRPC port actually bound, or 0 when gRPC is off. */
  public int actualGrpcPort() {
    return grpc == null ? 0 : grpc.actualPort();
  }
}
