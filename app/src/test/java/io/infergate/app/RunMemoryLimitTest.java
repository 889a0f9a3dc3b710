package io.infergate.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.infergate.proto.oip.GRPCInferenceServiceGrpc;
import io.infergate.proto.oip.ModelInferRequest;
import io.infergate.proto.serving.PredictionServiceGrpc;
import io.infergate.worker.TestModels;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.Collections;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * A valid request whose activations cannot fit in memory. One like it killed the worker inside
 * TensorFlow's oneDNN MatMul, whose failed allocation it dereferenced; with the default run
 * memory limit (the process's memory shared by the runs at once) it is refused before it runs,
 * on every API, batched or not, and the server lives.
 */
class RunMemoryLimitTest {

  /**
   * Each row of two floats makes 4 MiB of activations: 200,000 rows, in a 1.2 MB JSON body, ask
   * for 800 GB, past the default limit of any machine this test runs on.
   */
  private static final int WIDTH = 1 << 20;
  private static final int ROWS = 200_000;

  @TempDir
  static Path dir;
  static Path model;

  @BeforeAll
  static void export() {
    model = TestModels.exportWide(dir.resolve("wide"), WIDTH);
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void aRequestTooLargeForMemoryIsRefusedOnEveryApiAndTheServerLives(boolean batching) throws Exception {
    try (TestServer server = TestServer.start("--rest_api_port=0", "--port=" + TestServer.freePort(),
        "--model_name=wide", "--model_base_path=" + model, "--enable_batching=" + batching)) {
      String rows = String.join(",", Collections.nCopies(ROWS, "[0,0]"));
      assertRefused(server.post("/v1/models/wide:predict", "{\"instances\": [" + rows + "]}"));
      String data = String.join(",", Collections.nCopies(2 * ROWS, "0"));
      assertRefused(server.post("/v2/models/wide/infer", "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", "
          + "\"shape\": [" + ROWS + ", 2], \"data\": [" + data + "]}]}"));

      ManagedChannel channel = ManagedChannelBuilder.forAddress("localhost", server.server.grpcPort()).usePlaintext()
          .build();
      try {
        TensorProto x = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
            .setTensorShape(GrpcApiTest.shape(ROWS, 2)).addFloatVal(0f).build();
        GrpcApiTest.assertCode(() -> PredictionServiceGrpc.newBlockingStub(channel)
            .predict(GrpcApiTest.request("wide", "x", x)), Status.Code.INVALID_ARGUMENT, "--run_memory_limit_bytes");
        ModelInferRequest.InferInputTensor.Builder input = ModelInferRequest.InferInputTensor.newBuilder()
            .setName("x").setDatatype("FP32").addShape(ROWS).addShape(2);
        input.getContentsBuilder().addAllFp32Contents(Collections.nCopies(2 * ROWS, 0f));
        GrpcApiTest.assertCode(() -> GRPCInferenceServiceGrpc.newBlockingStub(channel).modelInfer(
            ModelInferRequest.newBuilder().setModelName("wide").addInputs(input).build()),
            Status.Code.INVALID_ARGUMENT, "--run_memory_limit_bytes");
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }

      TestServer.Response small = server.post("/v1/models/wide:predict", "{\"instances\": [[1, 1], [2, 0]]}");
      assertThat(small.status()).as(small.body()).isEqualTo(200);
      assertThat(new JsonObject(small.body()).getJsonArray("predictions").getList())
          .containsExactly((double) WIDTH, (double) WIDTH);
    }
  }

  private static void assertRefused(TestServer.Response response) {
    assertThat(response.status()).as(response.body()).isEqualTo(400);
    assertThat(response.json().getString("error")).contains("wide:1", ROWS * 2 + " input elements",
        "--run_memory_limit_bytes", "send fewer rows");
  }
}
