package io.infergate.gateway.grpc;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.health.v1.HealthCheckRequest;
import io.vertx.grpc.health.v1.HealthCheckResponse;
import io.vertx.grpc.health.v1.HealthCheckResponse.ServingStatus;
import java.util.function.Function;

/**
 * One call of grpc.health.v1.Health's Watch: the service's status at once, then each change,
 * until the client cancels. Readiness is computed, not announced, so the watch looks again each
 * second; a service nobody registered is SERVICE_UNKNOWN, as the protocol says, not an error.
 */
final class HealthWatch {

  static final long INTERVAL_MILLIS = 1_000;

  private final Vertx vertx;
  private final GrpcServerRequest<HealthCheckRequest, HealthCheckResponse> call;
  private final Function<String, Future<Boolean>> status;
  private String service;
  private ServingStatus sent;
  private long timer = -1;
  private boolean ended;

  private HealthWatch(Vertx vertx, GrpcServerRequest<HealthCheckRequest, HealthCheckResponse> call,
                      Function<String, Future<Boolean>> status) {
    this.vertx = vertx;
    this.call = call;
    this.status = status;
  }

  /** Serves a Watch call with {@code status}: true serving, false not, failed for an unknown service. */
  static void serve(Vertx vertx, GrpcServerRequest<HealthCheckRequest, HealthCheckResponse> call,
                    Function<String, Future<Boolean>> status) {
    HealthWatch watch = new HealthWatch(vertx, call, status);
    call.exceptionHandler(failure -> watch.end());
    call.response().exceptionHandler(failure -> watch.end());
    call.handler(watch::start);
  }

  private void start(HealthCheckRequest request) {
    if (ended) {
      return;
    }
    service = request.getService();
    look();
    timer = vertx.setPeriodic(INTERVAL_MILLIS, id -> look());
  }

  private void look() {
    status.apply(service).onComplete(result -> {
      ServingStatus now = result.failed() ? ServingStatus.SERVICE_UNKNOWN
          : result.result() ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
      if (!ended && now != sent) {
        sent = now;
        call.response().write(HealthCheckResponse.newBuilder().setStatus(now).build()).onFailure(failure -> end());
      }
    });
  }

  /** The client went away: stop looking. */
  private void end() {
    ended = true;
    vertx.cancelTimer(timer);
  }
}
