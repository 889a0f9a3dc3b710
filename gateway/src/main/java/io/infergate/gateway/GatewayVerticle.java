package io.infergate.gateway;

import io.infergate.gateway.admission.Admission;
import io.infergate.gateway.grpc.GrpcApi;
import io.infergate.gateway.metrics.EventLoopLag;
import io.infergate.gateway.rest.RestServer;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import java.util.List;

/**
 * One event loop's share of the gateway. Deploy one instance per core: Vert.x spreads the
 * shared REST port's connections across them.
 */
public final class GatewayVerticle extends VerticleBase {

  private final GatewayOptions options;
  private final SharedServices shared;
  private HttpServer server;
  private GatewayServices services;
  private HttpServer grpc;

  public GatewayVerticle(GatewayOptions options, SharedServices shared) {
    this.options = options;
    this.shared = shared;
  }

  @Override
  public Future<?> start() {
    services = GatewayServices.create(vertx, options, shared);
    EventLoopLag.start(vertx, shared.prometheus());
    GatewayOptions.Listen listen = options.listen();
    server = vertx.createHttpServer(serverOptions()
        .setHost(listen.restHost())
        .setPort(listen.restPort())
        .setCompressionSupported(false));
    Future<?> rest = server.connectionHandler(this::admit)
        .requestHandler(RestServer.handler(vertx, options, services)).listen();
    if (listen.grpcPort() == 0) {
      return rest;
    }
    // gRPC is HTTP/2: negotiated by ALPN over TLS, prior knowledge (h2c) in plaintext.
    grpc = vertx.createHttpServer(serverOptions()
        .setHost(listen.grpcHost())
        .setPort(listen.grpcPort())
        .setUseAlpn(options.tls() != null)
        .setAlpnVersions(List.of(HttpVersion.HTTP_2))
        .setHttp2ClearTextEnabled(options.tls() == null));
    return Future.all(rest, grpc.connectionHandler(connection -> {
          if (admit(connection)) {
            GrpcApi.onConnection(connection);
          }
        })
        .requestHandler(GrpcApi.server(vertx, options, services)).listen());
  }

  @Override
  public Future<?> stop() {
    services.pipeline().close();
    return Future.succeededFuture();
  }

  /** Keeps a new connection within the process's budget, or closes it at once. */
  private boolean admit(HttpConnection connection) {
    Admission admission = shared.admission();
    if (!admission.openConnection()) {
      connection.close();
      return false;
    }
    connection.closeHandler(v -> admission.closeConnection());
    return true;
  }

  /** What both servers share: connection limits and TLS. */
  private HttpServerOptions serverOptions() {
    HttpServerOptions server = new HttpServerOptions().setIdleTimeout(options.limits().idleTimeoutSeconds());
    return options.tls() == null ? server : options.tls().applyTo(server);
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
