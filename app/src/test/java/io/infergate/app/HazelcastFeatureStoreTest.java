package io.infergate.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.infergate.app.features.FeatureLoader;
import io.infergate.app.features.HazelcastSink;
import io.infergate.gateway.features.FeatureStores;
import io.infergate.gateway.features.HazelcastFeatureStore;
import io.infergate.proto.serving.ModelSpec;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.proto.serving.PredictResponse;
import io.infergate.proto.serving.PredictionServiceGrpc;
import io.infergate.worker.TestModels;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * The embedded default: with no Redis in the feature config, a single-process server keeps the
 * features in a Hazelcast map of an embedded member, and the loader fills it as a real Hazelcast
 * client. The model is multi_io (sum = a + b, dot = a · b).
 */
class HazelcastFeatureStoreTest {

  @TempDir
  static Path dir;

  static Path models;
  static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    Path base = TestModels.exportMultiIo(dir.resolve("multi_io"));
    models = Files.writeString(dir.resolve("models.config"), """
        model_config_list { config { name: "fetched" base_path: "%s" } }""".formatted(base));
    Path features = Files.writeString(dir.resolve("features.config"), """
        hazelcast { timeout_ms: 500 port: %d }
        model {
          model: "fetched"
          input { input: "a" key: "user:{user_id}" size: 2 hash_fields: "x" hash_fields: "y" }
          input { input: "b" key: "item:{item_id}" size: 2 default_value: 0 default_value: 0 }
        }""".formatted(TestServer.freePort()));
    server = TestServer.start("--rest_api_port=0", "--port=" + TestServer.freePort(), "--model_config_file=" + models,
        "--feature_config_file=" + features);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void theLoaderFillsTheEmbeddedMapAsAClientAndTheGatewayFetchesFromIt() throws Exception {
    Path csv = Files.writeString(dir.resolve("users.csv"), "key,x,y\nuser:u1,1,2\nuser:u2,3,4\n");
    Path jsonl = Files.writeString(dir.resolve("items.jsonl"),
        "{\"key\": \"item:7\", \"vector\": [10, 20]}\n{\"key\": \"item:8\", \"values\": {\"x\": 1}}\nnot json\n");
    var store = (HazelcastFeatureStore) server.server.features().store();
    var progress = new ByteArrayOutputStream();
    FeatureLoader loader = new FeatureLoader(new PrintStream(progress, true));
    try (HazelcastSink sink = HazelcastSink.connect(FeatureStores.hostPort(store.hazelcast()),
        FeatureStores.EMBEDDED_CLUSTER)) {
      assertThat(loader.load(sink, csv)).extracting(s -> s.hashes(), s -> s.failed()).containsExactly(2L, 0L);
      assertThat(loader.load(sink, jsonl)).extracting(s -> s.hashes(), s -> s.vectors(), s -> s.failed())
          .containsExactly(1L, 1L, 1L);
    }
    assertThat(progress.toString()).contains("100% 2/2");

    TestServer.Response response = server.post("/v1/models/fetched:predict",
        "{\"instances\": [{\"user_id\": \"u1\", \"item_id\": 7}, {\"user_id\": \"u2\", \"item_id\": 99}]}");
    assertThat(response.status()).as(response.body()).isEqualTo(200);
    assertThat(response.json()).isEqualTo(new JsonObject("""
        {"predictions": [{"sum": [11.0, 22.0], "dot": 50.0}, {"sum": [3.0, 4.0], "dot": 0.0}]}"""));

    TestServer.Response missing = server.post("/v1/models/fetched:predict",
        "{\"instances\": [{\"user_id\": \"nobody\", \"item_id\": 7}]}");
    assertThat(missing.status()).isEqualTo(404);
    TestServer.Response wrongForm = server.post("/v1/models/fetched:predict",
        "{\"instances\": [{\"user_id\": \"u1\", \"item_id\": 8}]}");
    assertThat(wrongForm.status()).isEqualTo(400);
    assertThat(wrongForm.json().getString("error")).contains("item:8 are a hash, not a packed vector");
  }

  @Test
  void anInputTheRequestSuppliesIsNotFetchedSoItsIdsAreNotNeeded() throws Exception {
    var store = (HazelcastFeatureStore) server.server.features().store();
    store.hazelcast().getMap(HazelcastFeatureStore.MAP).set("user:u5", new java.util.HashMap<>(
        java.util.Map.of("x", "2", "y", "3")));
    assertThat(server.post("/v1/models/fetched:predict",
        "{\"instances\": [{\"a\": [1, 1], \"b\": [2, 2]}]}").json())
        .isEqualTo(new JsonObject("{\"predictions\": [{\"sum\": [3.0, 3.0], \"dot\": 4.0}]}"));
    assertThat(server.post("/v1/models/fetched:predict",
        "{\"instances\": [{\"user_id\": \"u5\", \"b\": [1, 1]}]}").json())
        .isEqualTo(new JsonObject("{\"predictions\": [{\"sum\": [3.0, 4.0], \"dot\": 5.0}]}"));
  }

  @Test
  void grpcPredictTakesEntityIdsAsInputTensors() throws Exception {
    var store = (HazelcastFeatureStore) server.server.features().store();
    var map = store.hazelcast().<String, Object>getMap(HazelcastFeatureStore.MAP);
    map.set("user:g1", new java.util.HashMap<>(java.util.Map.of("x", "1", "y", "1")));
    map.set("item:5", FeatureStoreTest.floats(2, 3));
    ManagedChannel channel = ManagedChannelBuilder.forAddress("localhost", server.server.grpcPort()).usePlaintext().build();
    try {
      PredictResponse response = PredictionServiceGrpc.newBlockingStub(channel).predict(PredictRequest.newBuilder()
          .setModelSpec(ModelSpec.newBuilder().setName("fetched"))
          .putInputs("user_id", TensorProto.newBuilder().setDtype(DataType.DT_STRING)
              .addStringVal(ByteString.copyFromUtf8("g1")).addStringVal(ByteString.copyFromUtf8("g1")).build())
          .putInputs("item_id", TensorProto.newBuilder().setDtype(DataType.DT_INT64).addInt64Val(5).addInt64Val(404).build())
          .build());
      var dot = response.getOutputsOrThrow("dot").getTensorContent().asReadOnlyByteBuffer()
          .order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
      assertThat(new float[] {dot.get(0), dot.get(1)}).containsExactly(5.0f, 0.0f);
      assertThatThrownBy(() -> PredictionServiceGrpc.newBlockingStub(channel).predict(PredictRequest.newBuilder()
          .setModelSpec(ModelSpec.newBuilder().setName("fetched"))
          .putInputs("user_id", TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).addFloatVal(1).build())
          .putInputs("item_id", TensorProto.newBuilder().setDtype(DataType.DT_INT64).addInt64Val(5).build())
          .build()))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    } finally {
      channel.shutdownNow();
    }
  }

  @Test
  void theStalePolicyNeedsANearCacheAndSaysSoAtStart() throws Exception {
    Path stale = Files.writeString(dir.resolve("stale.config"), """
        hazelcast { port: %d }
        model { model: "fetched" on_failure: STALE input { input: "a" key: "user:{user_id}" size: 2 } }
        """.formatted(TestServer.freePort()));
    assertThatThrownBy(() -> TestServer.start("--rest_api_port=0", "--port=0", "--model_config_file=" + models,
        "--feature_config_file=" + stale))
        .hasMessageContaining("on_failure: STALE").hasMessageContaining("near_cache");
  }
}
