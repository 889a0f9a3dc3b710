package io.infergate.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.infergate.app.features.FeatureLoader;
import io.infergate.app.features.GatewaySink;
import io.infergate.gateway.features.HazelcastFeatureStore;
import io.infergate.proto.serving.ModelSpec;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.proto.serving.PredictResponse;
import io.infergate.proto.serving.PredictionServiceGrpc;
import io.infergate.worker.TestModels;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import java.net.URI;
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
 * features in a Hazelcast map of an embedded member, which takes no Hazelcast clients; the loader
 * fills it through the gateway's admin API. The model is multi_io (sum = a + b, dot = a · b).
 */
class HazelcastFeatureStoreTest {

  @TempDir
  static Path dir;

  static final String TOKEN = "features-token";

  static Path models;
  static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    Path base = TestModels.exportMultiIo(dir.resolve("multi_io"));
    models = Files.writeString(dir.resolve("models.config"), """
        model_config_list { config { name: "fetched" base_path: "%s" } }""".formatted(base));
    Path features = Files.writeString(dir.resolve("features.config"), """
        hazelcast { timeout_ms: 500 }
        model {
          model: "fetched"
          input { input: "a" key: "user:{user_id}" size: 2 hash_fields: "x" hash_fields: "y" }
          input { input: "b" key: "item:{item_id}" size: 2 default_value: 0 default_value: 0 }
        }""");
    server = TestServer.start("--rest_api_port=0", "--port=" + TestServer.freePort(), "--model_config_file=" + models,
        "--feature_config_file=" + features, "--admin_token=" + TOKEN);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void theLoaderFillsTheEmbeddedMapThroughTheAdminApiAndTheGatewayFetchesFromIt() throws Exception {
    Path csv = Files.writeString(dir.resolve("users.csv"), "key,x,y\nuser:u1,1,2\nuser:u2,3,4\n");
    Path jsonl = Files.writeString(dir.resolve("items.jsonl"),
        "{\"key\": \"item:7\", \"vector\": [10, 20]}\n{\"key\": \"item:8\", \"values\": {\"x\": 1}}\nnot json\n");
    var progress = new ByteArrayOutputStream();
    FeatureLoader loader = new FeatureLoader(new PrintStream(progress, true));
    try (GatewaySink sink = new GatewaySink(URI.create("http://localhost:" + server.server.restPort()), TOKEN,
        null, null, null)) {
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

  /** The way in is the admin API, with its token: the member takes no Hazelcast clients at all. */
  @Test
  void noHazelcastClientAndNoLoadWithoutTheToken() throws Exception {
    var store = (HazelcastFeatureStore) server.server.features().store().backing();
    var address = store.hazelcast().getCluster().getLocalMember().getAddress();
    assertThat(address.getHost()).as("loopback only").isEqualTo("127.0.0.1");
    ClientConfig client = new ClientConfig();
    client.setClusterName(store.hazelcast().getConfig().getClusterName());
    client.getNetworkConfig().addAddress(address.getHost() + ":" + address.getPort());
    client.getConnectionStrategyConfig().getConnectionRetryConfig().setClusterConnectTimeoutMillis(3_000);
    assertThatThrownBy(() -> HazelcastClient.newHazelcastClient(client).shutdown())
        .as("a client, even one that knows the cluster name").isInstanceOf(IllegalStateException.class);

    TestServer.Response refused = server.post("/admin/features", "{\"key\": \"user:evil\", \"values\": {\"x\": 1}}");
    assertThat(refused.status()).isEqualTo(401);
    assertThat(store.hazelcast().getMap(HazelcastFeatureStore.MAP).containsKey("user:evil")).isFalse();
  }

  @Test
  void anInputTheRequestSuppliesIsNotFetchedSoItsIdsAreNotNeeded() throws Exception {
    var store = (HazelcastFeatureStore) server.server.features().store().backing();
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
    var store = (HazelcastFeatureStore) server.server.features().store().backing();
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
  void aNearCacheInFrontOfTheMapServesHotEntitiesAndEvictsWhatChanges() throws Exception {
    Path cached = Files.writeString(dir.resolve("cached.config"), """
        hazelcast { timeout_ms: 500 near_cache { max_entries: 1000 ttl_ms: 600000 tracking: true } }
        model {
          model: "fetched"
          input { input: "a" key: "user:{user_id}" size: 2 hash_fields: "x" hash_fields: "y" }
          input { input: "b" key: "item:{item_id}" size: 2 default_value: 0 default_value: 0 }
        }""");
    try (TestServer near = TestServer.start("--rest_api_port=0", "--port=0", "--model_config_file=" + models,
        "--feature_config_file=" + cached, "--admin_token=" + TOKEN);
         GatewaySink sink = new GatewaySink(URI.create("http://localhost:" + near.server.restPort()), TOKEN,
             null, null, null)) {
      FeatureLoader loader = new FeatureLoader(new PrintStream(new ByteArrayOutputStream(), true));
      loader.load(sink, Files.writeString(dir.resolve("near-users.csv"), "key,x,y\nuser:u5,1,2\n"));
      loader.load(sink, Files.writeString(dir.resolve("near-items.jsonl"), "{\"key\": \"item:5\", \"vector\": [1, 1]}\n"));
      String request = "{\"instances\": [{\"user_id\": \"u5\", \"item_id\": 5}]}";
      TestServer.Response first = near.post("/v1/models/fetched:predict", request);
      assertThat(first.body()).as("status %d", first.status()).contains("[2.0,3.0]");
      double hits = near.metric("infergate_features_cache_total{result=\"hit\"}");
      near.post("/v1/models/fetched:predict", request);
      assertThat(near.metric("infergate_features_cache_total{result=\"hit\"}")).as("both entities from the near cache")
          .isEqualTo(hits + 2);

      // Changed in the map: evicted from the near cache at once, although its TTL is ten minutes.
      loader.load(sink, Files.writeString(dir.resolve("near-users-2.csv"), "key,x,y\nuser:u5,100,2\n"));
      Traffic.awaitCondition(() -> {
        try {
          return near.post("/v1/models/fetched:predict", request).body().contains("[101.0,3.0]");
        } catch (Exception e) {
          return false;
        }
      }, 5_000);
    }
  }

  @Test
  void theStalePolicyNeedsANearCacheAndSaysSoAtStart() throws Exception {
    Path stale = Files.writeString(dir.resolve("stale.config"), """
        hazelcast { timeout_ms: 100 }
        model { model: "fetched" on_failure: STALE input { input: "a" key: "user:{user_id}" size: 2 } }
        """);
    assertThatThrownBy(() -> TestServer.start("--rest_api_port=0", "--port=0", "--model_config_file=" + models,
        "--feature_config_file=" + stale))
        .hasMessageContaining("on_failure: STALE").hasMessageContaining("near_cache");
  }
}
