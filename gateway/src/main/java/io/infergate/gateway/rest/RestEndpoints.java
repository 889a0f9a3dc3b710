package io.infergate.gateway.rest;

import io.infergate.common.ServableId;
import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.infergate.gateway.admission.ExpiryWatch;
import io.infergate.gateway.json.JsonCodec;
import io.infergate.gateway.metrics.RequestMetrics;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

/**
 * Wraps every REST endpoint the same way: the request's deadline runs from its arrival, a
 * thrown or failed status becomes TF Serving's {"error": "..."} body with the mapped HTTP code,
 * every request gets exactly one answer (by its deadline at the latest), and it is counted and
 * timed.
 */
final class RestEndpoints {

  static final String ENTRYPOINT = "REST";
  /** Names the version that answered, whatever the request asked for. */
  static final String MODEL_VERSION_HEADER = "x-model-version";
  /** Where the router path keeps a request's arrival time and body. */
  static final String ARRIVED = "infergate.arrived";
  static final String BODY = "infergate.body";
  // Pre-encoded header names and values: Vert.x then skips validating and hashing them per response.
  private static final CharSequence MODEL_VERSION = HttpHeaders.createOptimized(MODEL_VERSION_HEADER);
  private static final CharSequence JSON = HttpHeaders.createOptimized("application/json");
  private static final CharSequence RETRY_AFTER = HttpHeaders.createOptimized("retry-after");
  private static final CharSequence ONE_SECOND = HttpHeaders.createOptimized("1");

  /**
   * Bodies up to this size are decoded on the event loop; larger ones on a worker thread, since
   * decoding megabytes of JSON would hold every connection of the loop meanwhile (a 1.2 MB body
   * blocked a loop for half a second while the JIT was cold).
   */
  static final int DECODE_ON_LOOP_BYTES = 64 * 1024;

  private final Vertx vertx;
  private final RequestMetrics metrics;
  private final ExpiryWatch expiry;
  private final long timeoutNanos;

  RestEndpoints(Vertx vertx, RequestMetrics metrics, ExpiryWatch expiry, long timeoutMillis) {
    this.vertx = vertx;
    this.metrics = metrics;
    this.expiry = expiry;
    this.timeoutNanos = timeoutMillis * 1_000_000;
  }

  /**
   * Decodes the body with {@code decoder} and goes on with {@code then}: at once when the body is
   * small (no future in between, on the hot path), else after decoding it on a worker thread,
   * back on this context.
   */
  <T> Future<Reply> decoded(byte[] body, Function<byte[], T> decoder, Function<T, Future<Reply>> then) {
    if (body.length <= DECODE_ON_LOOP_BYTES) {
      return then.apply(decoder.apply(body));
    }
    return vertx.executeBlocking(() -> decoder.apply(body), false).compose(then);
  }

  /** An endpoint's work, given the request's deadline. */
  @FunctionalInterface
  interface Work {
    Future<Reply> apply(long deadlineNanos);
  }

  @FunctionalInterface
  interface Endpoint {
    Future<Reply> apply(RoutingContext ctx, long deadlineNanos);
  }

  Handler<RoutingContext> endpoint(String api, Endpoint work) {
    return ctx -> answer(api, ctx.pathParam("model"), ctx.request(), arrived(ctx),
        deadline -> work.apply(ctx, deadline));
  }

  /** Runs one endpoint's work and answers it: the response, or the mapped error, and the metrics. */
  void answer(String api, String model, HttpServerRequest request, long arrivedNanos, Work work) {
    HttpServerResponse response = request.response();
    long deadline = arrivedNanos + timeoutNanos;
    Future<Reply> reply;
    try {
      reply = work.apply(deadline);
    } catch (RuntimeException e) {
      reply = Future.failedFuture(e);
    }
    expiry.bound(reply, deadline).onComplete(result -> {
      if (result.succeeded()) {
        Reply ok = result.result();
        ServableId served = ok.servedBy();
        if (served != null && !response.ended()) {
          response.putHeader(MODEL_VERSION, Long.toString(served.version()));
        }
        send(response, ok.httpStatus(), ok.body());
        metrics.record(served, model, api, ENTRYPOINT, StatusCode.OK, arrivedNanos);
      } else {
        metrics.record(null, model, api, ENTRYPOINT, sendFailure(request, result.cause()), arrivedNanos);
      }
    });
  }

  /** Answers a failure with its status and {"error": ...}; returns the status for the metrics. */
  static StatusCode sendFailure(HttpServerRequest request, Throwable failure) {
    if (failure instanceof BodyReader.Refused refused) {
      // HTTP/1 has no other way to skip a body it will not read; on HTTP/2 only the stream ends.
      boolean close = request.version() != HttpVersion.HTTP_2;
      if (close) {
        request.response().putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
      }
      sendError(request.response(), refused.httpStatus, refused.getMessage())
          .onComplete(sent -> {
            if (close) {
              request.connection().close();
            }
          });
      return refused.code;
    }
    ServingException status = ServingException.of(failure);
    sendError(request.response(), status.code().httpStatus(), status.getMessage(), status.retryAfterSeconds());
    return status.code();
  }

  /** When the request was taken in; the deadline and the latency run from it. */
  static long arrived(RoutingContext ctx) {
    Long arrived = ctx.get(ARRIVED);
    return arrived != null ? arrived : System.nanoTime();
  }

  static byte[] body(RoutingContext ctx) {
    return nonEmpty(ctx.get(BODY));
  }

  static byte[] nonEmpty(byte[] body) {
    if (body == null || body.length == 0) {
      throw ServingException.invalidArgument("JSON Parse error: The document is empty");
    }
    return body;
  }

  static String bodyText(RoutingContext ctx) {
    return new String(body(ctx), StandardCharsets.UTF_8);
  }

  static Future<Void> send(HttpServerResponse response, int status, byte[] body) {
    if (response.ended()) {
      return Future.succeededFuture();
    }
    return response.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, JSON).end(Buffer.buffer(body));
  }

  static Future<Void> sendError(HttpServerResponse response, int status, String message) {
    return sendError(response, status, message, 1);
  }

  /** {"error": message}; overload answers (429, 503) say when to try again, as HTTP suggests. */
  static Future<Void> sendError(HttpServerResponse response, int status, String message, long retryAfterSeconds) {
    if ((status == 429 || status == 503) && !response.ended()) {
      response.putHeader(RETRY_AFTER, retryAfterSeconds == 1 ? ONE_SECOND : Long.toString(retryAfterSeconds));
    }
    String text = message == null || message.isBlank() ? "HTTP " + status : message;
    return send(response, status, JsonCodec.write(json -> {
      json.writeStartObject();
      json.writeStringField("error", text);
      json.writeEndObject();
    }));
  }
}
