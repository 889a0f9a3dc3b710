package io.infergate.gateway.rest;

import io.infergate.common.ServableId;
import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.infergate.gateway.json.JsonCodec;
import io.infergate.gateway.metrics.RequestMetrics;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Wraps every REST endpoint the same way: a thrown or failed status becomes TF Serving's
 * {"error": "..."} body with the mapped HTTP code, the response is always ended, and the
 * request is counted and timed.
 */
final class RestEndpoints {

  static final String ENTRYPOINT = "REST";
  /** Names the version that answered, whatever the request asked for. */
  static final String MODEL_VERSION_HEADER = "x-model-version";
  // Pre-encoded header names and values: Vert.x then skips validating and hashing them per response.
  private static final CharSequence MODEL_VERSION = HttpHeaders.createOptimized(MODEL_VERSION_HEADER);
  private static final CharSequence JSON = HttpHeaders.createOptimized("application/json");

  private final RequestMetrics metrics;

  RestEndpoints(RequestMetrics metrics) {
    this.metrics = metrics;
  }

  Handler<RoutingContext> endpoint(String api, Function<RoutingContext, Future<Reply>> work) {
    return ctx -> answer(api, ctx.pathParam("model"), ctx.response(), () -> work.apply(ctx));
  }

  /** Runs one endpoint's work and answers it: the response, or the mapped error, and the metrics. */
  void answer(String api, String model, HttpServerResponse response, Supplier<Future<Reply>> work) {
    long started = System.nanoTime();
    Future<Reply> reply;
    try {
      reply = work.get();
    } catch (RuntimeException e) {
      reply = Future.failedFuture(e);
    }
    reply.onComplete(result -> {
      if (result.succeeded()) {
        Reply ok = result.result();
        ServableId served = ok.servedBy();
        if (served != null) {
          response.putHeader(MODEL_VERSION, Long.toString(served.version()));
        }
        send(response, ok.httpStatus(), ok.body());
        metrics.record(served, model, api, ENTRYPOINT, StatusCode.OK, started);
      } else {
        ServingException status = ServingException.of(result.cause());
        sendError(response, status.code().httpStatus(), status.getMessage());
        metrics.record(null, model, api, ENTRYPOINT, status.code(), started);
      }
    });
  }

  static byte[] body(RoutingContext ctx) {
    return bytes(ctx.body().buffer());
  }

  static byte[] bytes(Buffer body) {
    if (body == null || body.length() == 0) {
      throw ServingException.invalidArgument("JSON Parse error: The document is empty");
    }
    return body.getBytes();
  }

  static String bodyText(RoutingContext ctx) {
    return new String(body(ctx), java.nio.charset.StandardCharsets.UTF_8);
  }

  static void send(HttpServerResponse response, int status, byte[] body) {
    if (!response.ended()) {
      response.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, JSON).end(Buffer.buffer(body));
    }
  }

  static void sendError(HttpServerResponse response, int status, String message) {
    send(response, status, JsonCodec.write(json -> {
      json.writeStartObject();
      json.writeStringField("error", message);
      json.writeEndObject();
    }));
  }
}
