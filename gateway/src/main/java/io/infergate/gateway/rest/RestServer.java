package io.infergate.gateway.rest;

import io.infergate.gateway.GatewayOptions;
import io.infergate.gateway.GatewayServices;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * The REST server's request handler: predict's fast path, then the router with both serving
 * APIs, the metrics endpoint, the admin API, and JSON errors for everything else.
 */
public final class RestServer {

  private RestServer() {}

  public static Handler<HttpServerRequest> handler(Vertx vertx, GatewayOptions options, GatewayServices services) {
    Router router = Router.router(vertx);
    RestEndpoints endpoints = new RestEndpoints(services.metrics());
    PrometheusMeterRegistry prometheus = services.prometheus();

    router.route().method(HttpMethod.POST).method(HttpMethod.PUT)
        .handler(BodyHandler.create(false).setBodyLimit(options.maxRequestBodyBytes()));
    if (options.metricsPath() != null) {
      // TF Serving's path (or the monitoring config's), and the conventional /metrics.
      for (String path : new LinkedHashSet<>(List.of(options.metricsPath(), "/metrics"))) {
        router.get(path).handler(ctx -> ctx.response()
            .putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8")
            .end(prometheus.scrape()));
      }
    }
    TfServingRestApi tfServing = new TfServingRestApi(services, endpoints, options.restTimeoutMillis());
    tfServing.mount(router);
    new OpenInferenceRestApi(services, endpoints, options.restTimeoutMillis(), options.serverVersion()).mount(router);
    new AdminApi(services.registry(), vertx.eventBus(), endpoints, options.adminToken()).mount(router);

    router.route().last().handler(ctx -> RestEndpoints.sendError(ctx.response(), 404,
        "Malformed request: " + ctx.request().method() + " " + ctx.request().path()));
    router.route().failureHandler(ctx -> {
      int status = ctx.statusCode() > 0 ? ctx.statusCode() : 500;
      String message = status == 413
          ? "Request body is larger than the limit of " + options.maxRequestBodyBytes() + " bytes"
          : ctx.failure() != null ? String.valueOf(ctx.failure().getMessage()) : "Request failed";
      RestEndpoints.sendError(ctx.response(), status, message);
    });
    PredictFastPath predict = new PredictFastPath(tfServing, endpoints, options.maxRequestBodyBytes());
    return request -> {
      if (!predict.handle(request)) {
        router.handle(request);
      }
    };
  }
}
