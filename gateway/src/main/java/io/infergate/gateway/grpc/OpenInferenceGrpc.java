package io.infergate.gateway.grpc;

import io.infergate.common.Signatures;
import io.infergate.common.registry.ModelRegistry;
import io.infergate.common.registry.ModelView;
import io.infergate.common.registry.ServableRecord;
import io.infergate.gateway.GatewayServices;
import io.infergate.gateway.pipeline.InferencePipeline.Target;
import io.infergate.gateway.pipeline.TensorInputs;
import io.infergate.gateway.protocol.OpenInferenceTypes;
import io.infergate.gateway.routing.ServableResolver;
import java.util.function.UnaryOperator;
import io.infergate.gateway.routing.VersionSelector;
import io.infergate.proto.oip.GrpcService;
import io.infergate.proto.oip.ModelInferRequest;
import io.infergate.proto.oip.ModelInferResponse;
import io.infergate.proto.oip.ModelMetadataRequest;
import io.infergate.proto.oip.ModelMetadataResponse;
import io.infergate.proto.oip.ModelReadyRequest;
import io.infergate.proto.oip.ModelReadyResponse;
import io.infergate.proto.oip.ServerLiveRequest;
import io.infergate.proto.oip.ServerLiveResponse;
import io.infergate.proto.oip.ServerMetadataRequest;
import io.infergate.proto.oip.ServerMetadataResponse;
import io.infergate.proto.oip.ServerReadyRequest;
import io.infergate.proto.oip.ServerReadyResponse;
import io.infergate.proto.serving.PredictRequest;
import io.vertx.core.Future;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.Service;
import org.tensorflow.proto.TensorInfo;

/** The Open Inference Protocol's {@code inference.GRPCInferenceService}. */
final class OpenInferenceGrpc {

  static final ServiceName SERVICE = ServiceName.create("inference.GRPCInferenceService");

  private final GatewayServices services;
  private final ModelRegistry registry;
  private final UnaryCalls calls;
  private final String serverVersion;

  OpenInferenceGrpc(GatewayServices services, UnaryCalls calls, String serverVersion) {
    this.services = services;
    this.registry = services.registry();
    this.calls = calls;
    this.serverVersion = serverVersion;
  }

  Service service() {
    return Service.service(SERVICE, GrpcService.getDescriptor().findServiceByName("GRPCInferenceService"))
        .bind(UnaryCalls.method(SERVICE, "ServerLive", ServerLiveRequest.getDefaultInstance()),
            calls.query("server_live", r -> null, (r, d, h) ->
                UnaryCalls.Answer.of(ServerLiveResponse.newBuilder().setLive(true).build())))
        .bind(UnaryCalls.method(SERVICE, "ServerReady", ServerReadyRequest.getDefaultInstance()),
            calls.query("server_ready", r -> null, (r, d, h) -> UnaryCalls.Answer.of(
                ServerReadyResponse.newBuilder().setReady(services.ready()).build())))
        .bind(UnaryCalls.method(SERVICE, "ServerMetadata", ServerMetadataRequest.getDefaultInstance()),
            calls.query("server_metadata", r -> null, (r, d, h) -> UnaryCalls.Answer.of(
                ServerMetadataResponse.newBuilder().setName("infergate").setVersion(serverVersion).build())))
        .bind(UnaryCalls.method(SERVICE, "ModelReady", ModelReadyRequest.getDefaultInstance()),
            calls.query("model_ready", ModelReadyRequest::getName, this::modelReady))
        .bind(UnaryCalls.method(SERVICE, "ModelMetadata", ModelMetadataRequest.getDefaultInstance()),
            calls.query("model_metadata", ModelMetadataRequest::getName, this::modelMetadata))
        .bind(UnaryCalls.method(SERVICE, "ModelInfer", ModelInferRequest.getDefaultInstance()),
            calls.inference("infer", ModelInferRequest::getModelName, this::infer))
        .build();
  }

  private Future<UnaryCalls.Answer<ModelReadyResponse>> modelReady(ModelReadyRequest request, long deadline,
                                                                  UnaryOperator<String> metadata) {
    VersionSelector selector = selector(request.getVersion());
    ModelView view = ServableResolver.model(registry.snapshot(), request.getName(), selector);
    boolean ready = selector.select(view).map(ServableRecord::isAvailable).orElse(false);
    return UnaryCalls.Answer.of(ModelReadyResponse.newBuilder().setReady(ready).build());
  }

  private Future<UnaryCalls.Answer<ModelMetadataResponse>> modelMetadata(ModelMetadataRequest request, long deadline,
                                                                        UnaryOperator<String> headers) {
    ServableRecord servable = services.router().resolve(request.getName(), selector(request.getVersion()));
    ModelMetadataResponse.Builder metadata = ModelMetadataResponse.newBuilder()
        .setName(request.getName()).setPlatform("tensorflow_savedmodel");
    registry.snapshot().model(request.getName()).orElseThrow().availableVersions()
        .forEach(version -> metadata.addVersions(Long.toString(version)));
    var signature = Signatures.find(servable.signatures(), Signatures.DEFAULT_KEY);
    signature.getInputsMap().forEach((name, info) -> metadata.addInputs(tensorMetadata(name, info)));
    signature.getOutputsMap().forEach((name, info) -> metadata.addOutputs(tensorMetadata(name, info)));
    return Future.succeededFuture(new UnaryCalls.Answer<>(metadata.build(), servable.id()));
  }

  private Future<UnaryCalls.Answer<ModelInferResponse>> infer(ModelInferRequest request, long deadline,
                                                              UnaryOperator<String> metadata) {
    PredictRequest predict = OipTensors.toPredict(request);
    Target target = new Target(request.getModelName(), selector(request.getModelVersion()), metadata,
        OipTensors.priority(request));
    return services.pipeline().predict(target, predict.getModelSpec().getSignatureName(),
            new TensorInputs(predict), deadline)
        .map(served -> new UnaryCalls.Answer<>(OipTensors.toInfer(served.response(), request.getId()), served.servable()));
  }

  /** An empty version means the latest, as in the protocol. */
  private static VersionSelector selector(String version) {
    return VersionSelector.of(version, null);
  }

  private static ModelMetadataResponse.TensorMetadata tensorMetadata(String name, TensorInfo info) {
    ModelMetadataResponse.TensorMetadata.Builder tensor = ModelMetadataResponse.TensorMetadata.newBuilder()
        .setName(name).setDatatype(OpenInferenceTypes.toDatatype(info.getDtype()));
    for (long dim : OpenInferenceTypes.shape(info)) {
      tensor.addShape(dim);
    }
    return tensor.build();
  }

}
