package io.infergate.gateway.grpc;

import com.google.protobuf.Message;
import io.infergate.common.ServableId;
import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.infergate.gateway.metrics.RequestMetrics;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServerRequest;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Wraps every unary gRPC method the same way: the client's deadline (or the server's default)
 * becomes the request's deadline, a failed status becomes the matching gRPC status with its
 * message, and each call is counted and timed.
 */
final class UnaryCalls {

  static final String ENTRYPOINT = "GRPC";

  private final RequestMetrics metrics;
  private final long defaultTimeoutMillis;

  UnaryCalls(RequestMetrics metrics, long defaultTimeoutMillis) {
    this.metrics = metrics;
    this.defaultTimeoutMillis = defaultTimeoutMillis;
  }

  /** A call's answer and the servable that gave it (null when none did). */
  record Answer<T>(T response, ServableId servedBy) {
    static <T> Future<Answer<T>> of(T response) {
      return Future.succeededFuture(new Answer<>(response, null));
    }
  }

  @FunctionalInterface
  interface Call<Req, Resp> {
    /** @param metadata the call's metadata (headers) by name, for sticky routing */
    Future<Answer<Resp>> apply(Req request, long deadlineNanos, UnaryOperator<String> metadata);
  }

  static <Req extends Message, Resp extends Message> ServiceMethod<Req, Resp> method(
      ServiceName service, String name, Req prototype) {
    return ServiceMethod.server(service, name, GrpcMessageEncoder.encoder(), GrpcMessageDecoder.decoder(prototype));
  }

  /**
   * @param api the method name for metrics
   * @param modelOf the model a request names, for the metrics tag (only if that model exists)
   */
  <Req, Resp> Handler<GrpcServerRequest<Req, Resp>> unary(String api, Function<Req, String> modelOf,
                                                          Call<Req, Resp> call) {
    return request -> {
      long started = System.nanoTime();
      long timeoutMillis = request.timeout() > 0 ? request.timeout() : defaultTimeoutMillis;
      long deadline = started + timeoutMillis * 1_000_000;
      request.handler(message -> {
        Future<Answer<Resp>> answer;
        try {
          answer = call.apply(message, deadline, request.headers()::get);
        } catch (RuntimeException e) {
          answer = Future.failedFuture(e);
        }
        answer.onComplete(result -> {
          if (result.succeeded()) {
            request.response().end(result.result().response());
            metrics.record(result.result().servedBy(), modelOf.apply(message), api, ENTRYPOINT, StatusCode.OK,
                started);
          } else {
            ServingException status = ServingException.of(result.cause());
            request.response().status(GrpcStatus.valueOf(status.code().number()))
                .statusMessage(status.getMessage()).end();
            metrics.record(null, modelOf.apply(message), api, ENTRYPOINT, status.code(), started);
          }
        });
      });
    };
  }
}
