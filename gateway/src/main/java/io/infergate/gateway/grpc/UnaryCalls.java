package io.infergate.gateway.grpc;

import com.google.protobuf.Message;
import io.infergate.common.ServableId;
import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.infergate.gateway.admission.Admission;
import io.infergate.gateway.admission.ExpiryWatch;
import io.infergate.gateway.metrics.RequestMetrics;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.grpc.common.GrpcMessage;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.common.WireFormat;
import io.vertx.grpc.server.GrpcServerRequest;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Wraps every unary gRPC method the same way: the client's deadline (or the server's default)
 * becomes the request's deadline, a failed status becomes the matching gRPC status with its
 * message, every call gets exactly one answer (by its deadline at the latest), and each call is
 * counted and timed.
 */
final class UnaryCalls {

  static final String ENTRYPOINT = "GRPC";

  private static final String RETRY_PUSHBACK = "grpc-retry-pushback-ms";
  private static final String RETRY_PUSHBACK_MILLIS = "1000";

  private final RequestMetrics metrics;
  private final ExpiryWatch expiry;
  private final Admission admission;
  private final long defaultTimeoutMillis;

  UnaryCalls(RequestMetrics metrics, ExpiryWatch expiry, Admission admission, long defaultTimeoutMillis) {
    this.metrics = metrics;
    this.expiry = expiry;
    this.admission = admission;
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

  /** A request message as it came off the wire: parsed, or the reason it does not parse. */
  record Parsed<T>(T message, String error, int wireBytes) {}

  /**
   * A unary method whose undecodable requests are answered INVALID_ARGUMENT: Vert.x's own decoder
   * throws, and the stream is then reset without any status.
   */
  static <Req extends Message, Resp extends Message> ServiceMethod<Parsed<Req>, Resp> method(
      ServiceName service, String name, Req prototype) {
    GrpcMessageDecoder<Req> strict = GrpcMessageDecoder.decoder(prototype);
    GrpcMessageDecoder<Parsed<Req>> lenient = new GrpcMessageDecoder<>() {
      @Override
      public Parsed<Req> decode(GrpcMessage message) {
        try {
          return new Parsed<>(strict.decode(message), null, message.payload().length());
        } catch (RuntimeException e) {
          Throwable cause = e.getCause() != null ? e.getCause() : e;
          return new Parsed<>(null, "The request is not a valid " + prototype.getDescriptorForType().getFullName()
              + ": " + cause.getMessage(), message.payload().length());
        }
      }

      @Override
      public boolean accepts(WireFormat format) {
        return strict.accepts(format);
      }
    };
    return ServiceMethod.server(service, name, GrpcMessageEncoder.encoder(), lenient);
  }

  /**
   * A method that asks nothing of a model (status, metadata, health): never refused for load.
   *
   * @param api the method name for metrics
   * @param modelOf the model a request names, for the metrics tag (only if that model exists)
   */
  <Req, Resp> Handler<GrpcServerRequest<Parsed<Req>, Resp>> query(String api, Function<Req, String> modelOf,
                                                                  Call<Req, Resp> call) {
    return request -> handle(request, null, api, modelOf, call);
  }

  /**
   * A method that runs a model: admitted within the server's budget, or refused UNAVAILABLE at
   * once, before its message is read; its message is charged to the memory budget.
   */
  <Req, Resp> Handler<GrpcServerRequest<Parsed<Req>, Resp>> inference(String api, Function<Req, String> modelOf,
                                                                      Call<Req, Resp> call) {
    return request -> {
      Admission.Ticket ticket;
      try {
        ticket = admission.admit(0);
      } catch (ServingException full) {
        respond(request, null, full);
        metrics.record(null, null, api, ENTRYPOINT, full.code(), System.nanoTime());
        return;
      }
      handle(request, ticket, api, modelOf, call);
    };
  }

  private <Req, Resp> void handle(GrpcServerRequest<Parsed<Req>, Resp> request, Admission.Ticket ticket, String api,
                                  Function<Req, String> modelOf, Call<Req, Resp> call) {
    // The deadline runs from the call's arrival: a message that trickles in counts against it.
    long started = System.nanoTime();
    long timeoutMillis = request.timeout() > 0 ? request.timeout() : defaultTimeoutMillis;
    long deadline = started + timeoutMillis * 1_000_000;
    Promise<Parsed<Req>> message = Promise.promise();
    request.handler(message::tryComplete);
    request.exceptionHandler(message::tryFail);
    Future<Answer<Resp>> answer = message.future().compose(parsed -> {
      if (ticket != null) {
        ticket.charge(parsed.wireBytes(), Admission.MEMORY_PER_MESSAGE_BYTE);
      }
      return parsed.error() != null
          ? Future.failedFuture(ServingException.invalidArgument(parsed.error()))
          : call.apply(parsed.message(), deadline, request.headers()::get);
    });
    expiry.bound(answer, deadline).onComplete(result -> {
      if (ticket != null) {
        ticket.release();
      }
      Parsed<Req> received = message.future().result();
      String model = received == null || received.message() == null ? null : modelOf.apply(received.message());
      if (result.succeeded()) {
        respond(request, result.result().response(), null);
        metrics.record(result.result().servedBy(), model, api, ENTRYPOINT, StatusCode.OK, started);
      } else {
        ServingException status = ServingException.of(result.cause());
        respond(request, null, status);
        metrics.record(null, model, api, ENTRYPOINT, status.code(), started);
      }
    });
  }

  /** Sends the answer or the status; a stream the client has already reset takes neither. */
  private static <Resp> void respond(GrpcServerRequest<?, Resp> request, Resp response, ServingException status) {
    try {
      if (status == null) {
        request.response().end(response);
        return;
      }
      if (status.code() == StatusCode.RESOURCE_EXHAUSTED || status.code() == StatusCode.UNAVAILABLE) {
        // gRPC's retry policy waits this long before the next attempt (a quota says when it has room).
        long seconds = status.retryAfterSeconds();
        request.response().trailers().set(RETRY_PUSHBACK, seconds == 1 ? RETRY_PUSHBACK_MILLIS : Long.toString(seconds * 1000));
      }
      request.response().status(GrpcStatus.valueOf(status.code().number())).statusMessage(status.getMessage()).end();
    } catch (IllegalStateException reset) {
      // The client went away (reset or cancelled): nobody is left to answer.
    }
  }
}
