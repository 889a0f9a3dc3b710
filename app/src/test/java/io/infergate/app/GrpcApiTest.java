package io.infergate.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.Int64Value;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import io.infergate.proto.oip.GRPCInferenceServiceGrpc;
import io.infergate.proto.oip.InferParameter;
import io.infergate.proto.oip.InferTensorContents;
import io.infergate.proto.oip.ModelInferRequest;
import io.infergate.proto.oip.ModelInferResponse;
import io.infergate.proto.oip.ModelMetadataRequest;
import io.infergate.proto.oip.ModelReadyRequest;
import io.infergate.proto.oip.ServerLiveRequest;
import io.infergate.proto.oip.ServerMetadataRequest;
import io.infergate.proto.oip.ServerReadyRequest;
import io.infergate.proto.serving.ClassificationRequest;
import io.infergate.proto.serving.ExampleList;
import io.infergate.proto.serving.GetModelMetadataRequest;
import io.infergate.proto.serving.GetModelStatusRequest;
import io.infergate.proto.serving.InferenceTask;
import io.infergate.proto.serving.Input;
import io.infergate.proto.serving.ModelServiceGrpc;
import io.infergate.proto.serving.ModelSpec;
import io.infergate.proto.serving.ModelVersionStatus;
import io.infergate.proto.serving.MultiInferenceRequest;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.proto.serving.PredictResponse;
import io.infergate.proto.serving.PredictionServiceGrpc;
import io.infergate.proto.serving.RegressionRequest;
import io.infergate.proto.serving.ReloadConfigRequest;
import io.infergate.proto.serving.SignatureDefMap;
import io.infergate.worker.TestModels;
import io.infergate.worker.lifecycle.ModelServerConfigs;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.Example;
import org.tensorflow.proto.Feature;
import org.tensorflow.proto.Features;
import org.tensorflow.proto.FloatList;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/** The gRPC APIs through standard grpc-java clients generated from the same protos. */
class GrpcApiTest {

  @TempDir
  static Path dir;

  static final String ADMIN_TOKEN = "grpc-admin-token";

  static TestServer server;
  static ManagedChannel channel;
  static PredictionServiceGrpc.PredictionServiceBlockingStub prediction;
  static ModelServiceGrpc.ModelServiceBlockingStub models;
  static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub inference;

  @BeforeAll
  static void start() throws Exception {
    Path config = Files.writeString(dir.resolve("models.config"), """
        model_config_list {
          config { name: "half_plus_two" base_path: "%s" }
          config { name: "multi_io" base_path: "%s" }
          config { name: "typed" base_path: "%s" }
        }""".formatted(TestModels.tfServing("saved_model_half_plus_two_cpu"),
        TestModels.exportMultiIo(dir.resolve("multi_io")), TestModels.exportTyped(dir.resolve("typed"))));
    int port = TestServer.freePort();
    server = TestServer.start("--rest_api_port=0", "--port=" + port, "--model_config_file=" + config,
        "--grpc_max_message_size=65536", "--admin_token=" + ADMIN_TOKEN,
        "--allowed_model_roots=" + TestModels.tfServing("saved_model_half_plus_two_cpu").getParent() + "," + dir)
        .awaitReady();
    channel = ManagedChannelBuilder.forAddress("localhost", server.server.grpcPort()).usePlaintext().build();
    prediction = PredictionServiceGrpc.newBlockingStub(channel);
    Metadata admin = new Metadata();
    admin.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + ADMIN_TOKEN);
    models = ModelServiceGrpc.newBlockingStub(channel)
        .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(admin));
    inference = GRPCInferenceServiceGrpc.newBlockingStub(channel);
  }

  @AfterAll
  static void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.close();
  }

  @Test
  void predictsAndNamesTheVersionThatServed() {
    PredictResponse response = prediction.predict(PredictRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("half_plus_two"))
        .putInputs("x", floats(new float[] {1, 2, 5}, 3)).build());
    assertThat(floatValues(response.getOutputsOrThrow("y"))).containsExactly(2.5f, 3f, 4.5f);
    assertThat(response.getOutputsOrThrow("y").getTensorContent().size()).as("numbers come back as tensor_content").isEqualTo(12);
    assertThat(response.getModelSpec().getName()).isEqualTo("half_plus_two");
    assertThat(response.getModelSpec().getVersion().getValue()).isEqualTo(123);
    assertThat(response.getModelSpec().getSignatureName()).isEqualTo("serving_default");
  }

  @Test
  void acceptsTypedValuesAndTensorContentInOneRequestAndHonoursTheOutputFilter() {
    TensorProto typed = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).setTensorShape(shape(1, 2))
        .addFloatVal(1).addFloatVal(2).build();
    PredictResponse response = prediction.predict(PredictRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("multi_io").setVersion(Int64Value.of(1)))
        .putInputs("a", typed).putInputs("b", floats(new float[] {3, 4}, 1, 2))
        .addOutputFilter("dot").build());
    assertThat(response.getOutputsMap().keySet()).containsExactly("dot");
    assertThat(floatValues(response.getOutputsOrThrow("dot"))).containsExactly(11f);
  }

  @Test
  void classifiesRegressesAndRunsMultiInference() {
    Input input = Input.newBuilder().setExampleList(ExampleList.newBuilder().addExamples(example(2f))).build();
    ModelSpec classify = ModelSpec.newBuilder().setName("half_plus_two").setSignatureName("classify_x_to_y").build();
    ModelSpec regress = ModelSpec.newBuilder().setName("half_plus_two").setSignatureName("regress_x_to_y").build();
    assertThat(prediction.classify(ClassificationRequest.newBuilder().setModelSpec(classify).setInput(input).build())
        .getResult().getClassifications(0).getClasses(0).getScore()).isEqualTo(3f);
    assertThat(prediction.regress(RegressionRequest.newBuilder().setModelSpec(regress).setInput(input).build())
        .getResult().getRegressions(0).getValue()).isEqualTo(3f);
    var multi = prediction.multiInference(MultiInferenceRequest.newBuilder()
        .addTasks(InferenceTask.newBuilder().setModelSpec(classify).setMethodName("tensorflow/serving/classify"))
        .addTasks(InferenceTask.newBuilder().setModelSpec(regress).setMethodName("tensorflow/serving/regress"))
        .setInput(input).build());
    assertThat(multi.getResults(0).getClassificationResult().getClassifications(0).getClasses(0).getScore()).isEqualTo(3f);
    assertThat(multi.getResults(1).getRegressionResult().getRegressions(0).getValue()).isEqualTo(3f);
    assertThat(multi.getResults(1).getModelSpec().getVersion().getValue()).isEqualTo(123);
    assertCode(() -> prediction.multiInference(MultiInferenceRequest.newBuilder()
        .addTasks(InferenceTask.newBuilder().setModelSpec(regress).setMethodName("tensorflow/serving/regress"))
        .addTasks(InferenceTask.newBuilder().setModelSpec(regress).setMethodName("tensorflow/serving/regress"))
        .setInput(input).build()), Status.Code.INVALID_ARGUMENT, "Duplicate evaluation of signature");
  }

  @Test
  void describesModelsAndTheirStatus() throws Exception {
    var metadata = prediction.getModelMetadata(GetModelMetadataRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("half_plus_two")).addMetadataField("signature_def").build());
    assertThat(metadata.getModelSpec().getVersion().getValue()).isEqualTo(123);
    SignatureDefMap signatures = metadata.getMetadataOrThrow("signature_def").unpack(SignatureDefMap.class);
    assertThat(signatures.getSignatureDefMap()).containsKeys("serving_default", "classify_x_to_y");
    assertCode(() -> prediction.getModelMetadata(GetModelMetadataRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("half_plus_two")).build()),
        Status.Code.INVALID_ARGUMENT, "must specify at least one metadata_field");

    var status = models.getModelStatus(GetModelStatusRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("half_plus_two")).build());
    assertThat(status.getModelVersionStatus(0).getVersion()).isEqualTo(123);
    assertThat(status.getModelVersionStatus(0).getState()).isEqualTo(ModelVersionStatus.State.AVAILABLE);
  }

  @Test
  void mapsFailuresToTheSameCodesAsRest() {
    assertCode(() -> prediction.predict(request("nope", "x", floats(new float[] {1}, 1))),
        Status.Code.NOT_FOUND, "Servable not found for request: Latest(nope)");
    assertCode(() -> prediction.predict(request("half_plus_two", "z", floats(new float[] {1}, 1))),
        Status.Code.INVALID_ARGUMENT, "Missing but required: [x]");
    assertCode(() -> prediction.predict(request("half_plus_two", "x", floats(new float[] {1}, 1)).toBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("half_plus_two").setSignatureName("nope")).build()),
        Status.Code.FAILED_PRECONDITION, "Serving signature key \"nope\" not found.");
    assertCode(() -> prediction.predict(request("half_plus_two", "x", floats(new float[] {1}, 1)).toBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("half_plus_two").setVersionLabel("nope")).build()),
        Status.Code.NOT_FOUND, "Unrecognized servable version label: nope");
    assertCode(() -> prediction.predict(request("half_plus_two", "x", floats(new float[20_000], 20_000))),
        Status.Code.RESOURCE_EXHAUSTED, "");
  }

  @Test
  void handlesConcurrentCalls() throws Exception {
    var async = PredictionServiceGrpc.newFutureStub(channel);
    List<com.google.common.util.concurrent.ListenableFuture<PredictResponse>> calls = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      calls.add(async.predict(request("half_plus_two", "x", floats(new float[] {i}, 1))));
    }
    for (int i = 0; i < calls.size(); i++) {
      assertThat(floatValues(calls.get(i).get(30, TimeUnit.SECONDS).getOutputsOrThrow("y"))).containsExactly(0.5f * i + 2);
    }
  }

  @Test
  void reloadsTheModelConfigThroughModelService() throws Exception {
    String twoVersions = TestModels.tfServing("saved_model_half_plus_two_2_versions").toString();
    String base = """
        model_config_list {
          config { name: "half_plus_two" base_path: "%s" }
          config { name: "multi_io" base_path: "%s" }
          config { name: "typed" base_path: "%s" }
          config { name: "hp2" base_path: "%s" model_version_policy { all {} } %s }
        }""";
    String halfPlusTwo = TestModels.tfServing("saved_model_half_plus_two_cpu").toString();
    String multiIo = dir.resolve("multi_io").toString();
    String typed = dir.resolve("typed").toString();
    var reloaded = models.handleReloadConfigRequest(ReloadConfigRequest.newBuilder().setConfig(ModelServerConfigs.read(
        Files.writeString(dir.resolve("r1.config"), base.formatted(halfPlusTwo, multiIo, typed, twoVersions,
            "version_labels { key: \"stable\" value: 123 }")))).build());
    assertThat(reloaded.getStatus().getErrorCodeValue()).isZero();
    PredictResponse stable = prediction.predict(request("hp2", "x", floats(new float[] {1}, 1)).toBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("hp2").setVersionLabel("stable")).build());
    assertThat(stable.getModelSpec().getVersion().getValue()).isEqualTo(123);

    var badLabel = ModelServerConfigs.read(Files.writeString(dir.resolve("r2.config"),
        base.formatted(halfPlusTwo, multiIo, typed, twoVersions, "version_labels { key: \"stable\" value: 999 }")));
    assertCode(() -> models.handleReloadConfigRequest(ReloadConfigRequest.newBuilder().setConfig(badLabel).build()),
        Status.Code.FAILED_PRECONDITION, "points at version 999");
    var badPath = ModelServerConfigs.read(Files.writeString(dir.resolve("r3.config"),
        base.formatted(halfPlusTwo, multiIo, typed, dir.resolve("missing"), "")));
    assertCode(() -> models.handleReloadConfigRequest(ReloadConfigRequest.newBuilder().setConfig(badPath).build()),
        Status.Code.INVALID_ARGUMENT, "does not exist");
    assertThat(prediction.predict(request("hp2", "x", floats(new float[] {1}, 1))).getModelSpec().getVersion().getValue())
        .isEqualTo(124);
  }

  /** Model management needs the admin token, and may only load models from the allowed roots. */
  @Test
  void reloadingTheConfigNeedsTheTokenAndStaysInsideTheAllowedRoots() throws Exception {
    ReloadConfigRequest outside = ReloadConfigRequest.newBuilder().setConfig(ModelServerConfigs.read(Files.writeString(
        dir.resolve("outside.config"), "model_config_list { config { name: \"etc\" base_path: \"/etc\" } }")))
        .build();
    assertCode(() -> models.handleReloadConfigRequest(outside), Status.Code.PERMISSION_DENIED,
        "outside the allowed model roots");
    ReloadConfigRequest escaping = ReloadConfigRequest.newBuilder().setConfig(ModelServerConfigs.read(Files.writeString(
        dir.resolve("escaping.config"), "model_config_list { config { name: \"up\" base_path: \"" + dir
            + "/../../etc\" } }"))).build();
    assertCode(() -> models.handleReloadConfigRequest(escaping), Status.Code.PERMISSION_DENIED,
        "outside the allowed model roots");
    assertCode(() -> ModelServiceGrpc.newBlockingStub(channel).handleReloadConfigRequest(outside),
        Status.Code.UNAUTHENTICATED, "Missing or wrong admin token");
    Metadata wrong = new Metadata();
    wrong.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer nope");
    assertCode(() -> ModelServiceGrpc.newBlockingStub(channel)
            .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(wrong))
            .handleReloadConfigRequest(outside),
        Status.Code.UNAUTHENTICATED, "Missing or wrong admin token");
    // Nothing changed: the models serve as before.
    assertThat(prediction.predict(request("half_plus_two", "x", floats(new float[] {2}, 1)))
        .getModelSpec().getVersion().getValue()).isEqualTo(123);
  }

  @Test
  void servesTheOpenInferenceProtocol() {
    assertThat(inference.serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
    assertThat(inference.serverReady(ServerReadyRequest.getDefaultInstance()).getReady()).isTrue();
    assertThat(inference.serverMetadata(ServerMetadataRequest.getDefaultInstance()).getName()).isEqualTo("infergate");
    assertThat(inference.modelReady(ModelReadyRequest.newBuilder().setName("half_plus_two").setVersion("123").build())
        .getReady()).isTrue();
    assertThat(inference.modelReady(ModelReadyRequest.newBuilder().setName("half_plus_two").setVersion("9").build())
        .getReady()).isFalse();
    var metadata = inference.modelMetadata(ModelMetadataRequest.newBuilder().setName("half_plus_two").build());
    assertThat(metadata.getVersionsList()).containsExactly("123");
    assertThat(metadata.getInputs(0).getDatatype()).isEqualTo("FP32");

    ModelInferResponse typedContents = inference.modelInfer(ModelInferRequest.newBuilder().setModelName("half_plus_two")
        .setId("a").addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP32")
            .addShape(2).setContents(InferTensorContents.newBuilder().addFp32Contents(1).addFp32Contents(2))).build());
    assertThat(typedContents.getId()).isEqualTo("a");
    assertThat(typedContents.getModelVersion()).isEqualTo("123");
    assertThat(typedContents.getOutputs(0).getShapeList()).containsExactly(2L);
    assertThat(floatValues(typedContents.getRawOutputContents(0))).containsExactly(2.5f, 3f);
    assertCode(() -> inference.modelInfer(ModelInferRequest.newBuilder().setModelName("half_plus_two")
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP16").addShape(1)).build()),
        Status.Code.INVALID_ARGUMENT, "supported are FP32");
  }

  @Test
  void takesRawInputContentsOfEveryDatatype() {
    ByteBuffer words = ByteBuffer.allocate(4 + 2 + 4 + 3).order(ByteOrder.LITTLE_ENDIAN);
    words.putInt(2).put("hi".getBytes()).putInt(3).put(new byte[] {0, 1, 2});
    ModelInferRequest request = ModelInferRequest.newBuilder().setModelName("typed")
        .putParameters("signature_name", InferParameter.newBuilder().setStringParam("serving_default").build())
        .addInputs(input("ids", "INT64")).addRawInputContents(le(8, b -> b.putLong(41).putLong(-2)))
        .addInputs(input("counts", "INT32")).addRawInputContents(le(4, b -> b.putInt(3).putInt(4)))
        .addInputs(input("words", "BYTES")).addRawInputContents(ByteString.copyFrom(words.array()))
        .addInputs(input("flags", "BOOL")).addRawInputContents(ByteString.copyFrom(new byte[] {1, 0}))
        .addInputs(input("scale", "FP64")).addRawInputContents(le(8, b -> b.putDouble(0.25).putDouble(2)))
        .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("ids_plus_one"))
        .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("echo_bytes"))
        .build();
    ModelInferResponse response = inference.modelInfer(request);
    assertThat(response.getOutputsList()).extracting(o -> o.getName() + ":" + o.getDatatype())
        .containsExactlyInAnyOrder("ids_plus_one:INT64", "echo_bytes:BYTES");
    for (int i = 0; i < response.getOutputsCount(); i++) {
      ByteBuffer raw = response.getRawOutputContents(i).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      if (response.getOutputs(i).getName().equals("ids_plus_one")) {
        assertThat(new long[] {raw.getLong(), raw.getLong()}).containsExactly(42, -1);
      } else {
        assertThat(response.getRawOutputContents(i)).isEqualTo(ByteString.copyFrom(words.array()));
      }
    }
  }

  @Test
  void reportsHealthAndOffersReflection() throws Exception {
    var health = HealthGrpc.newBlockingStub(channel);
    assertThat(health.check(HealthCheckRequest.newBuilder().build()).getStatus())
        .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    assertThat(health.check(HealthCheckRequest.newBuilder().setService("tensorflow.serving.PredictionService").build())
        .getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);

    List<String> services = new ArrayList<>();
    var done = new java.util.concurrent.CountDownLatch(1);
    var requests = ServerReflectionGrpc.newStub(channel).serverReflectionInfo(new StreamObserver<>() {
      @Override
      public void onNext(ServerReflectionResponse response) {
        response.getListServicesResponse().getServiceList().stream().map(ServiceResponse::getName).forEach(services::add);
      }

      @Override
      public void onError(Throwable t) {
        done.countDown();
      }

      @Override
      public void onCompleted() {
        done.countDown();
      }
    });
    requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
    requests.onCompleted();
    assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(services).contains("tensorflow.serving.PredictionService", "tensorflow.serving.ModelService",
        "inference.GRPCInferenceService", "grpc.health.v1.Health");
  }

  static ModelInferRequest.InferInputTensor input(String name, String datatype) {
    return ModelInferRequest.InferInputTensor.newBuilder().setName(name).setDatatype(datatype).addShape(2).build();
  }

  static ByteString le(int size, java.util.function.Consumer<ByteBuffer> fill) {
    ByteBuffer buffer = ByteBuffer.allocate(size * 2).order(ByteOrder.LITTLE_ENDIAN);
    fill.accept(buffer);
    return ByteString.copyFrom(buffer.array());
  }

  static void assertCode(Runnable call, Status.Code code, String message) {
    assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(code);
      assertThat(String.valueOf(e.getStatus().getDescription())).contains(message);
    });
  }

  static PredictRequest request(String model, String input, TensorProto tensor) {
    return PredictRequest.newBuilder().setModelSpec(ModelSpec.newBuilder().setName(model)).putInputs(input, tensor).build();
  }

  static TensorShapeProto shape(long... dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (long dim : dims) {
      shape.addDimBuilder().setSize(dim);
    }
    return shape.build();
  }

  static TensorProto floats(float[] values, long... dims) {
    ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      bytes.putFloat(v);
    }
    return TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).setTensorShape(shape(dims))
        .setTensorContent(ByteString.copyFrom(bytes.array())).build();
  }

  static float[] floatValues(TensorProto tensor) {
    return floatValues(tensor.getTensorContent());
  }

  static float[] floatValues(ByteString content) {
    var buffer = content.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    float[] values = new float[buffer.remaining()];
    buffer.get(values);
    return values;
  }

  static Example example(float x) {
    return Example.newBuilder().setFeatures(Features.newBuilder().putFeature("x",
        Feature.newBuilder().setFloatList(FloatList.newBuilder().addValue(x)).build())).build();
  }
}
