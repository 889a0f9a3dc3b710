package io.infergate.gateway.grpc;

import com.google.protobuf.Any;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.infergate.common.ServableId;
import io.infergate.common.registry.ServableRecord;
import io.infergate.common.status.ServingException;
import io.infergate.gateway.GatewayServices;
import io.infergate.gateway.auth.AdminToken;
import io.infergate.gateway.dispatch.ConfigReloads;
import io.infergate.gateway.pipeline.InferencePipeline.Target;
import io.infergate.gateway.pipeline.TensorInputs;
import io.infergate.gateway.protocol.ModelQueries;
import io.infergate.gateway.routing.VersionSelector;
import io.infergate.proto.serving.ClassificationRequest;
import io.infergate.proto.serving.ClassificationResponse;
import io.infergate.proto.serving.GetModelMetadataRequest;
import io.infergate.proto.serving.GetModelMetadataResponse;
import io.infergate.proto.serving.GetModelStatusRequest;
import io.infergate.proto.serving.GetModelStatusResponse;
import io.infergate.proto.serving.InferenceResult;
import io.infergate.proto.serving.InferenceTask;
import io.infergate.proto.serving.ModelServiceOuterClass;
import io.infergate.proto.serving.ModelSpec;
import io.infergate.proto.serving.MultiInferenceRequest;
import io.infergate.proto.serving.MultiInferenceResponse;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.proto.serving.PredictResponse;
import io.infergate.proto.serving.PredictionServiceOuterClass;
import io.infergate.proto.serving.RegressionRequest;
import io.infergate.proto.serving.RegressionResponse;
import io.infergate.proto.serving.ReloadConfigRequest;
import io.infergate.proto.serving.ReloadConfigResponse;
import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.Service;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;

/** TensorFlow Serving's gRPC API: {@code PredictionService} and {@code ModelService}. */
final class TfServingGrpc {

  static final ServiceName PREDICTION = ServiceName.create("tensorflow.serving.PredictionService");
  static final ServiceName MODEL = ServiceName.create("tensorflow.serving.ModelService");
  private static final String CLASSIFY = "tensorflow/serving/classify";
  private static final String REGRESS = "tensorflow/serving/regress";
  private static final String SIGNATURE_DEF = "signature_def";

  private final GatewayServices services;
  private final ConfigReloads reloads;
  private final UnaryCalls calls;
  private final AdminToken adminToken;

  TfServingGrpc(GatewayServices services, EventBus eventBus, UnaryCalls calls, AdminToken adminToken) {
    this.services = services;
    this.reloads = new ConfigReloads(eventBus, services.registry());
    this.calls = calls;
    this.adminToken = adminToken;
  }

  Service predictionService() {
    return Service.service(PREDICTION, PredictionServiceOuterClass.getDescriptor().findServiceByName("PredictionService"))
        .bind(UnaryCalls.method(PREDICTION, "Predict", PredictRequest.getDefaultInstance()),
            calls.inference("predict", r -> r.getModelSpec().getName(), this::predict))
        .bind(UnaryCalls.method(PREDICTION, "Classify", ClassificationRequest.getDefaultInstance()),
            calls.inference("classify", r -> r.getModelSpec().getName(), this::classify))
        .bind(UnaryCalls.method(PREDICTION, "Regress", RegressionRequest.getDefaultInstance()),
            calls.inference("regress", r -> r.getModelSpec().getName(), this::regress))
        .bind(UnaryCalls.method(PREDICTION, "MultiInference", MultiInferenceRequest.getDefaultInstance()),
            calls.inference("multi_inference", TfServingGrpc::firstModel, this::multiInference))
        .bind(UnaryCalls.method(PREDICTION, "GetModelMetadata", GetModelMetadataRequest.getDefaultInstance()),
            calls.query("metadata", r -> r.getModelSpec().getName(), this::metadata))
        .build();
  }

  Service modelService() {
    return Service.service(MODEL, ModelServiceOuterClass.getDescriptor().findServiceByName("ModelService"))
        .bind(UnaryCalls.method(MODEL, "GetModelStatus", GetModelStatusRequest.getDefaultInstance()),
            calls.query("status", r -> r.getModelSpec().getName(), this::status))
        .bind(UnaryCalls.method(MODEL, "HandleReloadConfigRequest", ReloadConfigRequest.getDefaultInstance()),
            calls.query("reload_config", r -> null, this::reloadConfig))
        .build();
  }

  private Future<UnaryCalls.Answer<PredictResponse>> predict(PredictRequest request, long deadline,
                                                            UnaryOperator<String> metadata) {
    ModelSpec spec = request.getModelSpec();
    return services.pipeline().predict(target(spec, metadata), spec.getSignatureName(),
            new TensorInputs(request), deadline)
        .map(served -> new UnaryCalls.Answer<>(served.response(), served.servable()));
  }

  private Future<UnaryCalls.Answer<ClassificationResponse>> classify(ClassificationRequest request, long deadline,
                                                                   UnaryOperator<String> metadata) {
    return send(request.getModelSpec(), request, deadline, metadata);
  }

  private Future<UnaryCalls.Answer<RegressionResponse>> regress(RegressionRequest request, long deadline,
                                                              UnaryOperator<String> metadata) {
    return send(request.getModelSpec(), request, deadline, metadata);
  }

  /** Several classify and regress signatures of one servable over the same examples. */
  private Future<UnaryCalls.Answer<MultiInferenceResponse>> multiInference(MultiInferenceRequest request, long deadline,
                                                                          UnaryOperator<String> metadata) {
    if (request.getTasksCount() == 0) {
      throw ServingException.invalidArgument("MultiInferenceRequest must have at least one task");
    }
    ModelSpec first = request.getTasks(0).getModelSpec();
    Set<String> signatures = new HashSet<>();
    for (InferenceTask task : request.getTasksList()) {
      ModelSpec spec = task.getModelSpec();
      if (!spec.getName().equals(first.getName()) || !VersionSelector.of(spec).equals(VersionSelector.of(first))) {
        throw ServingException.invalidArgument("All tasks of a MultiInferenceRequest must use the same model and version");
      }
      if (!signatures.add(spec.getSignatureName())) {
        throw ServingException.invalidArgument("Duplicate evaluation of signature: " + spec.getSignatureName());
      }
      if (!CLASSIFY.equals(task.getMethodName()) && !REGRESS.equals(task.getMethodName())) {
        throw ServingException.invalidArgument("Unsupported signature method_name: " + task.getMethodName());
      }
    }
    List<Future<InferenceResult>> results = new ArrayList<>();
    for (InferenceTask task : request.getTasksList()) {
      ModelSpec spec = task.getModelSpec();
      if (CLASSIFY.equals(task.getMethodName())) {
        results.add(this.<ClassificationResponse>send(first,
            ClassificationRequest.newBuilder().setModelSpec(spec).setInput(request.getInput()).build(), deadline, metadata)
            .map(answer -> InferenceResult.newBuilder().setModelSpec(answer.response().getModelSpec())
                .setClassificationResult(answer.response().getResult()).build()));
      } else {
        results.add(this.<RegressionResponse>send(first,
            RegressionRequest.newBuilder().setModelSpec(spec).setInput(request.getInput()).build(), deadline, metadata)
            .map(answer -> InferenceResult.newBuilder().setModelSpec(answer.response().getModelSpec())
                .setRegressionResult(answer.response().getResult()).build()));
      }
    }
    return Future.all(results).map(all -> {
      List<InferenceResult> list = all.list();
      ModelSpec served = list.get(0).getModelSpec();
      return new UnaryCalls.Answer<>(MultiInferenceResponse.newBuilder().addAllResults(list).build(),
          new ServableId(served.getName(), served.getVersion().getValue()));
    });
  }

  private Future<UnaryCalls.Answer<GetModelMetadataResponse>> metadata(GetModelMetadataRequest request, long deadline,
                                                                      UnaryOperator<String> metadata) {
    if (request.getMetadataFieldCount() == 0) {
      throw ServingException.invalidArgument("GetModelMetadataRequest must specify at least one metadata_field");
    }
    for (String field : request.getMetadataFieldList()) {
      if (!SIGNATURE_DEF.equals(field)) {
        throw ServingException.invalidArgument("Metadata field " + field + " is not supported");
      }
    }
    ServableRecord servable = services.router().resolve(request.getModelSpec().getName(),
        VersionSelector.of(request.getModelSpec()));
    GetModelMetadataResponse.Builder response = GetModelMetadataResponse.newBuilder()
        .setModelSpec(ModelQueries.spec(servable))
        .putMetadata(SIGNATURE_DEF, Any.pack(servable.signatures()));
    if (!servable.invalidSignatures().isEmpty()) {
      Struct.Builder invalid = Struct.newBuilder();
      servable.invalidSignatures().forEach((name, why) -> invalid.putFields(name, Value.newBuilder().setStringValue(why).build()));
      response.putMetadata(ModelQueries.INVALID_SIGNATURES, Any.pack(invalid.build()));
    }
    return Future.succeededFuture(new UnaryCalls.Answer<>(response.build(), servable.id()));
  }

  private Future<UnaryCalls.Answer<GetModelStatusResponse>> status(GetModelStatusRequest request, long deadline,
                                                                  UnaryOperator<String> metadata) {
    ModelSpec spec = request.getModelSpec();
    return UnaryCalls.Answer.of(ModelQueries.status(services.registry().snapshot(), spec.getName(),
        VersionSelector.of(spec)));
  }

  /**
   * Hands the new config to every worker it concerns, which realise it as a file reload would.
   * Model management: only with the admin token in the call's {@code authorization} metadata.
   */
  private Future<UnaryCalls.Answer<ReloadConfigResponse>> reloadConfig(ReloadConfigRequest request, long deadline,
                                                                      UnaryOperator<String> metadata) {
    adminToken.check(metadata.apply("authorization"));
    return reloads.reload(request, deadline).map(response -> new UnaryCalls.Answer<>(response, null));
  }

  // The worker reads only the signature name from a request's spec and answers with the spec
  // of the version that served, so these requests travel unchanged.
  private <T> Future<UnaryCalls.Answer<T>> send(ModelSpec requested, Object request, long deadline,
                                                UnaryOperator<String> metadata) {
    return services.pipeline().<T>dispatch(target(requested, metadata), servable -> request, deadline)
        .map(served -> new UnaryCalls.Answer<>(served.response(), served.servable()));
  }

  private static Target target(ModelSpec spec, UnaryOperator<String> metadata) {
    return new Target(spec.getName(), VersionSelector.of(spec), metadata);
  }

  private static String firstModel(MultiInferenceRequest request) {
    return request.getTasksCount() == 0 ? null : request.getTasks(0).getModelSpec().getName();
  }
}
