package io.infergate.gateway.rest;

import io.infergate.gateway.GatewayOptions;
import io.infergate.gateway.GatewayServices;
import io.infergate.gateway.auth.AdminToken;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.LinkedHashSet;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The REST server's request handler: predict's fast path, then the router with both serving
 * APIs, the metrics endpoint, the admin API, and JSON errors for everything else. Every request
 * gets exactly one answer, whatever throws.
 */
public final class RestServer {

  private static final Logger LOG = LoggerFactory.getLogger(RestServer.class);

  private RestServer() {}

  public static Handler<HttpServerRequest> handler(Vertx vertx, GatewayOptions options, GatewayServices services) {
    Router router = Router.router(vertx);
    RestEndpoints endpoints = new RestEndpoints(vertx, services.metrics(), services.expiry(),
        options.limits().requestTimeoutMillis());
    BodyReader bodies = new BodyReader(options.limits().maxRequestBodyBytes(),
        options.limits().requestBodyTimeoutMillis(),
        services.expiry(), services.admission());
    PrometheusMeterRegistry prometheus = services.prometheus();

    router.route().handler(ctx -> arrive(ctx, bodies));
    if (options.metricsPath() != null) {
      // TF Serving's path (or the monitoring config's), and the conventional /metrics.
      for (String path : new LinkedHashSet<>(List.of(options.metricsPath(), "/metrics"))) {
        router.get(path).handler(ctx -> ctx.response()
            .putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8")
            .end(prometheus.scrape()));
      }
    }
    TfServingRestApi tfServing = new TfServingRestApi(services, endpoints);
    tfServing.mount(router);
    new OpenInferenceRestApi(services, endpoints, options.serverVersion()).mount(router);
    new AdminApi(services.registry(), endpoints, new AdminToken(options.adminToken()),
        services.features(), services.policies()).mount(router);

    router.route().last().handler(ctx -> RestEndpoints.sendError(ctx.response(), 404,
        "Malformed request: " + ctx.request().method() + " " + ctx.request().path()));
    router.route().failureHandler(ctx -> {
      if (ctx.failure() != null) {
        RestEndpoints.sendFailure(ctx.request(), ctx.failure());
      } else {
        RestEndpoints.sendError(ctx.response(), ctx.statusCode() > 0 ? ctx.statusCode() : 500, null);
      }
    });
    PredictFastPath predict = new PredictFastPath(tfServing, endpoints, bodies);
    return request -> {
      try {
        if (!predict.handle(request)) {
          router.handle(request);
        }
      } catch (RuntimeException | Error e) {
        // A bug, not a bad request: still answered, and logged for the fix.
        LOG.error("Unhandled failure on {} {}", request.method(), request.path(), e);
        RestEndpoints.sendError(request.response(), 500, "Internal error; the server log has the details");
      }
    };
  }

  /** Takes the arrival time, and the whole body of requests that carry one, before any route sees them. */
  private static void arrive(RoutingContext ctx, BodyReader bodies) {
    long arrived = System.nanoTime();
    ctx.put(RestEndpoints.ARRIVED, arrived);
    HttpMethod method = ctx.request().method();
    if (method != HttpMethod.POST && method != HttpMethod.PUT) {
      ctx.next();
      return;
    }
    bodies.read(ctx.request(), arrived).onComplete(body -> {
      if (body.succeeded()) {
        ctx.put(RestEndpoints.BODY, body.result());
        ctx.next();
      } else {
        RestEndpoints.sendFailure(ctx.request(), body.cause());
      }
    });
  }
}
