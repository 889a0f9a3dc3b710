package io.infergate.loadtest;

import io.infergate.proto.serving.ModelSpec;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.proto.serving.PredictResponse;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServer;

/**
 * The yardstick for gRPC throughput: a bare vertx-grpc unary endpoint at
 * {@code tensorflow.serving.PredictionService/Predict} that decodes the PredictRequest and
 * answers an empty PredictResponse naming the model, with no model behind it.
 *
 * <p>Run: {@code java -cp "loadtest/target/classes:loadtest/target/lib/*" io.infergate.loadtest.BaselineGrpcServer 8600}
 */
public final class BaselineGrpcServer extends VerticleBase {

  private static final ServiceMethod<PredictRequest, PredictResponse> PREDICT = ServiceMethod.server(
      ServiceName.create("tensorflow.serving.PredictionService"), "Predict",
      GrpcMessageEncoder.encoder(), GrpcMessageDecoder.decoder(PredictRequest.getDefaultInstance()));

  private final int port;

  public BaselineGrpcServer(int port) {
    this.port = port;
  }

  @Override
  public Future<?> start() {
    GrpcServer grpc = GrpcServer.server(vertx).callHandler(PREDICT, call -> call.handler(request ->
        call.response().end(PredictResponse.newBuilder()
            .setModelSpec(ModelSpec.newBuilder().setName(request.getModelSpec().getName())).build())));
    return vertx.createHttpServer(new HttpServerOptions().setPort(port).setHttp2ClearTextEnabled(true))
        .requestHandler(grpc).listen();
  }

  public static void main(String[] args) {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 8600;
    Vertx vertx = Vertx.vertx();
    vertx.deployVerticle(() -> new BaselineGrpcServer(port),
            new DeploymentOptions().setInstances(Runtime.getRuntime().availableProcessors()))
        .onSuccess(id -> System.out.println("Baseline gRPC endpoint listening on port " + port))
        .onFailure(failure -> {
          failure.printStackTrace();
          vertx.close();
        });
  }
}
