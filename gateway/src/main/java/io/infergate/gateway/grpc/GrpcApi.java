package io.infergate.gateway.grpc;

import io.infergate.gateway.GatewayOptions;
import io.infergate.gateway.GatewayServices;
import io.infergate.gateway.auth.AdminToken;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.health.HealthService;
import io.vertx.grpc.health.v1.HealthCheckRequest;
import io.vertx.grpc.health.v1.HealthCheckResponse;
import io.vertx.grpc.reflection.ReflectionService;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerOptions;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The gRPC server: TF Serving's PredictionService and ModelService, the Open Inference
 * Protocol's GRPCInferenceService, grpc.health.v1.Health (serving when every configured model
 * has an available version) and server reflection, so standard gRPC tools work.
 */
public final class GrpcApi {

  private GrpcApi() {}

  /** Prepares each new gRPC connection of the server. */
  public static void onConnection(HttpConnection connection) {
    FlushCoalescing.install(connection);
  }

  public static GrpcServer server(Vertx vertx, GatewayOptions options, GatewayServices services) {
    GrpcServer server = GrpcServer.server(vertx, new GrpcServerOptions()
        .setMaxMessageSize(options.limits().grpcMaxMessageBytes())
        .setScheduleDeadlineAutomatically(false));
    UnaryCalls calls = new UnaryCalls(services.metrics(), services.expiry(), services.admission(),
        options.limits().requestTimeoutMillis());
    TfServingGrpc tfServing = new TfServingGrpc(services, vertx.eventBus(), calls, new AdminToken(options.adminToken()));
    OpenInferenceGrpc openInference = new OpenInferenceGrpc(services, calls, options.serverVersion());
    Supplier<Future<Boolean>> ready = () -> Future.succeededFuture(services.ready());
    HealthService health = HealthService.create(vertx)
        .register("", ready)
        .register(TfServingGrpc.PREDICTION, ready)
        .register(TfServingGrpc.MODEL, () -> Future.succeededFuture(true))
        .register(OpenInferenceGrpc.SERVICE, ready);
    // Registered before Vert.x's Health service, so that this Check and Watch are the ones that answer.
    Function<String, Future<Boolean>> serving = service -> service.isBlank() ? ready.get() : health.checkStatus(service);
    server.callHandler(HEALTH_WATCH, call -> HealthWatch.serve(vertx, call, serving));
    server.callHandler(HEALTH_CHECK, call -> call.handler(check -> serving.apply(check.getService())
        .onComplete(status -> {
          if (status.failed()) {
            call.response().status(GrpcStatus.NOT_FOUND).end();
          } else {
            call.response().end(HealthCheckResponse.newBuilder().setStatus(status.result()
                ? HealthCheckResponse.ServingStatus.SERVING : HealthCheckResponse.ServingStatus.NOT_SERVING).build());
          }
        })));
    return server
        .addService(tfServing.predictionService())
        .addService(tfServing.modelService())
        .addService(openInference.service())
        .addService(health)
        .addService(ReflectionService.v1());
  }

  /**
   * Health's Check and Watch, which answer for the whole server (an empty service name, what
   * Kubernetes' gRPC probes and gRPC clients' health checking ask) from readiness: Vert.x's own
   * answer SERVING to that whatever is registered.
   */
  private static final ServiceMethod<HealthCheckRequest, HealthCheckResponse> HEALTH_CHECK = healthMethod("Check");
  private static final ServiceMethod<HealthCheckRequest, HealthCheckResponse> HEALTH_WATCH = healthMethod("Watch");

  private static ServiceMethod<HealthCheckRequest, HealthCheckResponse> healthMethod(String name) {
    return ServiceMethod.server(ServiceName.create("grpc.health.v1.Health"), name, GrpcMessageEncoder.encoder(),
        GrpcMessageDecoder.decoder(HealthCheckRequest.newBuilder()));
  }
}
