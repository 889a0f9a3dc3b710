package io.infergate.app;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import java.util.function.BooleanSupplier;

/**
 * A worker's monitoring port: Prometheus metrics, and the two probes Kubernetes asks. Live means
 * the process answers; ready means its models take traffic and it is a connected member. It
 * listens before the models load, so a probe can tell "still loading" (503) from "dead".
 */
final class WorkerMonitoring {

  private static final String JSON = "application/json";

  private WorkerMonitoring() {}

  static Future<HttpServer> listen(Vertx vertx, PrometheusMeterRegistry prometheus, BooleanSupplier ready,
                                   String host, int port) {
    // Only probes and scrapers call here: small headers, and idle connections do not linger.
    HttpServerOptions options = new HttpServerOptions().setMaxHeaderSize(8192).setIdleTimeout(60);
    return vertx.createHttpServer(options)
        .requestHandler(request -> answer(request, prometheus, ready))
        .listen(port, host);
  }

  private static void answer(HttpServerRequest request, PrometheusMeterRegistry prometheus, BooleanSupplier ready) {
    if (request.method() != HttpMethod.GET && request.method() != HttpMethod.HEAD) {
      request.response().setStatusCode(405).putHeader("content-type", JSON)
          .end("{\"error\": \"Only GET is served here\"}");
      return;
    }
    switch (request.path()) {
      case "/healthz" -> request.response().putHeader("content-type", JSON).end("{\"live\": true}");
      case "/readyz" -> {
        boolean isReady = ready.getAsBoolean();
        request.response().setStatusCode(isReady ? 200 : 503).putHeader("content-type", JSON)
            .end("{\"ready\": " + isReady + "}");
      }
      case "/metrics", GatewayFlags.DEFAULT_METRICS_PATH -> request.response()
          .putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8").end(prometheus.scrape());
      default -> request.response().setStatusCode(404).putHeader("content-type", JSON)
          .end("{\"error\": \"Not found: the worker serves /healthz, /readyz and /metrics\"}");
    }
  }
}
