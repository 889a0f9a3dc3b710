package io.infergate.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.infergate.proto.oip.GRPCInferenceServiceGrpc;
import io.infergate.proto.oip.InferTensorContents;
import io.infergate.proto.oip.ModelInferRequest;
import io.infergate.proto.oip.ModelInferResponse;
import io.infergate.proto.serving.ModelSpec;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.proto.serving.PredictResponse;
import io.infergate.proto.serving.PredictionServiceGrpc;
import io.infergate.worker.TestModels;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Online features from a real redis-server (started here; bin/test installs it): clients send
 * entity ids, the gateway fetches the model's inputs. The model is multi_io: sum = a + b and
 * dot = a · b, so every fetched value shows in the answer.
 */
class FeatureStoreTest {

  @TempDir
  static Path dir;

  static int redisPort;
  static Process redis;
  static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    redisPort = TestServer.freePort();
    redis = startRedis();
    seed();
    Path base = TestModels.exportMultiIo(dir.resolve("multi_io"));
    Path models = Files.writeString(dir.resolve("models.config"), """
        model_config_list {
          config { name: "fetched" base_path: "%1$s" }
          config { name: "mixed" base_path: "%1$s" }
          config { name: "forgiving" base_path: "%1$s" }
          config { name: "stale" base_path: "%1$s" }
        }""".formatted(base));
    Path features = Files.writeString(dir.resolve("features.config"), """
        redis { uri: "redis://127.0.0.1:%d" timeout_ms: 200
                near_cache { max_entries: 1000 ttl_ms: 60000 tracking: true } }
        model {
          model: "fetched"
          input { input: "a" key: "user:{user_id}" size: 2 hash_fields: "x" hash_fields: "y" }
          input { input: "b" key: "item:{item_id}" size: 2 default_value: 0 default_value: 0 }
        }
        model {
          model: "mixed"
          input { input: "a" key: "user:{user_id}" size: 2 hash_fields: "x" hash_fields: "y" }
        }
        model {
          model: "forgiving"
          on_failure: DEFAULTS
          input { input: "a" key: "user:{user_id}" size: 2 hash_fields: "x" hash_fields: "y" default_value: 5 default_value: 5 }
          input { input: "b" key: "item:{item_id}" size: 2 default_value: 1 default_value: 1 }
        }
        model {
          model: "stale"
          on_failure: STALE
          input { input: "a" key: "user:{user_id}" size: 2 hash_fields: "x" hash_fields: "y" }
          input { input: "b" key: "item:{item_id}" size: 2 default_value: 1 default_value: 1 }
        }""".formatted(redisPort));
    server = TestServer.start("--rest_api_port=0", "--port=" + TestServer.freePort(), "--model_config_file=" + models,
        "--feature_config_file=" + features);
  }

  /** The entities the tests read; written again after a test restarts Redis. */
  static void seed() {
  try (RedisClient client = RedisClient.create("redis://127.0.0.1:" + redisPort);
       StatefulRedisConnection<String, byte[]> seed = client.connect(RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE))) {
    seed.sync().hset("user:u1", Map.of("x", "1.0".getBytes(), "y", "2.0".getBytes()));
    seed.sync().hset("user:u2", Map.of("x", "3.0".getBytes(), "y", "4.0".getBytes()));
    seed.sync().set("item:7", floats(10, 20));
    seed.sync().set("item:8", floats(30, 40));
    seed.sync().hset("user:u3", Map.of("x", "5.0".getBytes(), "y", "6.0".getBytes()));
    seed.sync().set("item:9", floats(1, 1));
  }
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
    redis.destroyForcibly().waitFor();
  }

  @Test
  void fetchesHashesAndPackedVectorsPerInstanceInOneRequest() throws Exception {
    TestServer.Response response = server.post("/v1/models/fetched:predict",
        "{\"instances\": [{\"user_id\": \"u1\", \"item_id\": 7}, {\"user_id\": \"u2\", \"item_id\": 8}]}");
    assertThat(response.status()).as(response.body()).isEqualTo(200);
    assertThat(response.json()).isEqualTo(new JsonObject("""
        {"predictions": [{"sum": [11.0, 22.0], "dot": 50.0}, {"sum": [33.0, 44.0], "dot": 250.0}]}"""));
  }

  /** Every API runs the same pipeline: entity ids in, fetched inputs added, in one order. */
  @Test
  void everyApiFetchesTheSameFeatures() throws Exception {
    JsonObject rest = server.post("/v1/models/fetched:predict",
        "{\"instances\": [{\"user_id\": \"u1\", \"item_id\": 7}]}").json();
    assertThat(rest).isEqualTo(new JsonObject("{\"predictions\": [{\"sum\": [11.0, 22.0], \"dot\": 50.0}]}"));

    TestServer.Response v2 = server.post("/v2/models/fetched/infer", """
        {"inputs": [{"name": "user_id", "datatype": "BYTES", "shape": [1], "data": ["u1"]},
                    {"name": "item_id", "datatype": "INT64", "shape": [1], "data": [7]}]}""");
    assertThat(v2.status()).as(v2.body()).isEqualTo(200);
    var outputs = v2.json().getJsonArray("outputs");
    for (int i = 0; i < outputs.size(); i++) {
      JsonObject output = outputs.getJsonObject(i);
      assertThat(output.getJsonArray("data").getList()).as(output.getString("name"))
          .isEqualTo(output.getString("name").equals("sum") ? java.util.List.of(11.0, 22.0) : java.util.List.of(50.0));
    }

    ManagedChannel channel = ManagedChannelBuilder.forAddress("localhost", server.server.grpcPort()).usePlaintext().build();
    try {
      PredictResponse predict = PredictionServiceGrpc.newBlockingStub(channel).predict(PredictRequest.newBuilder()
          .setModelSpec(ModelSpec.newBuilder().setName("fetched"))
          .putInputs("user_id", TensorProto.newBuilder().setDtype(DataType.DT_STRING)
              .addStringVal(ByteString.copyFromUtf8("u1")).build())
          .putInputs("item_id", TensorProto.newBuilder().setDtype(DataType.DT_INT64).addInt64Val(7).build())
          .build());
      assertThat(GrpcApiTest.floatValues(predict.getOutputsOrThrow("sum"))).containsExactly(11f, 22f);
      assertThat(GrpcApiTest.floatValues(predict.getOutputsOrThrow("dot"))).containsExactly(50f);

      ModelInferResponse infer = GRPCInferenceServiceGrpc.newBlockingStub(channel).modelInfer(
          ModelInferRequest.newBuilder().setModelName("fetched")
              .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("user_id").setDatatype("BYTES")
                  .addShape(1).setContents(InferTensorContents.newBuilder().addBytesContents(ByteString.copyFromUtf8("u1"))))
              .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("item_id").setDatatype("INT64")
                  .addShape(1).setContents(InferTensorContents.newBuilder().addInt64Contents(7)))
              .build());
      for (int i = 0; i < infer.getOutputsCount(); i++) {
        assertThat(GrpcApiTest.floatValues(infer.getRawOutputContents(i))).as(infer.getOutputs(i).getName())
            .containsExactly(infer.getOutputs(i).getName().equals("sum") ? new float[] {11, 22} : new float[] {50});
      }
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void usesDefaultsForAMissingEntityAndRefusesWithoutOne() throws Exception {
    assertThat(server.post("/v1/models/fetched:predict", "{\"instances\": [{\"user_id\": \"u1\", \"item_id\": 99}]}").json())
        .isEqualTo(new JsonObject("{\"predictions\": [{\"sum\": [1.0, 2.0], \"dot\": 0.0}]}"));
    TestServer.Response missing = server.post("/v1/models/fetched:predict",
        "{\"instances\": [{\"user_id\": \"nobody\", \"item_id\": 7}]}");
    assertThat(missing.status()).isEqualTo(404);
    assertThat(missing.json().getString("error")).contains("No features stored under user:nobody");
    TestServer.Response noId = server.post("/v1/models/fetched:predict", "{\"instances\": [{\"item_id\": 7}]}");
    assertThat(noId.status()).isEqualTo(400);
    assertThat(noId.json().getString("error")).contains("'user_id'");
  }

  @Test
  void mixesSuppliedInputsWithFetchedOnes() throws Exception {
    assertThat(server.post("/v1/models/mixed:predict", "{\"instances\": [{\"user_id\": \"u2\", \"b\": [1, 1]}]}").json())
        .isEqualTo(new JsonObject("{\"predictions\": [{\"sum\": [4.0, 5.0], \"dot\": 7.0}]}"));
  }

  @Test
  void theNearCacheServesHotKeysAndTrackingEvictsWhatRedisChanges() throws Exception {
    String request = "{\"instances\": [{\"user_id\": \"u1\", \"item_id\": 7}]}";
    server.post("/v1/models/fetched:predict", request);
    double hitsBefore = cacheHits();
    assertThat(server.post("/v1/models/fetched:predict", request).json())
        .isEqualTo(new JsonObject("{\"predictions\": [{\"sum\": [11.0, 22.0], \"dot\": 50.0}]}"));
    assertThat(cacheHits()).as("both keys came from the near cache").isEqualTo(hitsBefore + 2);

    redisCommand("HSET", "user:u1", "x", "100.0");
    Traffic.awaitCondition(() -> {
      try {
        return server.post("/v1/models/fetched:predict", request).body().contains("[110.0,22.0]");
      } catch (Exception e) {
        return false;
      }
    }, 5_000);
    redisCommand("HSET", "user:u1", "x", "1.0");
  }

  @Test
  void aSlowRedisFailsFastOrFallsBackToDefaultsWithinTheTimeout() throws Exception {
    // Warm the path up, so that only Redis can make the next requests slow.
    assertThat(server.post("/v1/models/forgiving:predict", "{\"instances\": [{\"user_id\": \"u1\", \"item_id\": 7}]}")
        .status()).isEqualTo(200);
    Thread sleeper = new Thread(() -> redisCommand("DEBUG", "SLEEP", "3"));
    sleeper.start();
    Thread.sleep(100);
    TestServer.Response failFast = server.post("/v1/models/fetched:predict", "{\"instances\": [{\"user_id\": \"u3\", \"item_id\": 9}]}");
    assertThat(failFast.status()).isEqualTo(503);
    assertThat(failFast.json().getString("error")).contains("Feature store unavailable");
    TestServer.Response defaults = server.post("/v1/models/forgiving:predict", "{\"instances\": [{\"user_id\": \"u5\", \"item_id\": 11}]}");
    assertThat(defaults.json()).isEqualTo(new JsonObject("{\"predictions\": [{\"sum\": [6.0, 6.0], \"dot\": 10.0}]}"));
    assertThat(sleeper.isAlive()).as("both answered (after the 200 ms feature timeout) while Redis still slept").isTrue();
    sleeper.join();
  }

  @Test
  void aRedisOutageNeverHangsAndServiceResumesByItself() throws Exception {
    String seen = "{\"instances\": [{\"user_id\": \"u2\", \"item_id\": 8}]}";
    JsonObject fresh = server.post("/v1/models/stale:predict", seen).json();
    assertThat(fresh).isEqualTo(new JsonObject("{\"predictions\": [{\"sum\": [33.0, 44.0], \"dot\": 250.0}]}"));
    redis.destroyForcibly().waitFor();
    long started = System.nanoTime();
    // Entities no test has read: the near cache holds nothing for them.
    assertThat(server.post("/v1/models/fetched:predict", "{\"instances\": [{\"user_id\": \"u6\", \"item_id\": 71}]}").status())
        .isEqualTo(503);
    assertThat((System.nanoTime() - started) / 1_000_000).isLessThan(1_000);
    assertThat(server.post("/v1/models/forgiving:predict", "{\"instances\": [{\"user_id\": \"u1\", \"item_id\": 7}]}").status())
        .isEqualTo(200);

    // STALE serves the last values seen (the cache no longer counts them as fresh: invalidations
    // may be lost while disconnected), defaults for an entity never seen, and 503 without defaults.
    assertThat(server.post("/v1/models/stale:predict", seen).json()).isEqualTo(fresh);
    assertThat(server.post("/v1/models/stale:predict", "{\"instances\": [{\"user_id\": \"u2\", \"item_id\": 555}]}").json())
        .isEqualTo(new JsonObject("{\"predictions\": [{\"sum\": [4.0, 5.0], \"dot\": 7.0}]}"));
    assertThat(server.post("/v1/models/stale:predict", "{\"instances\": [{\"user_id\": \"never-seen\", \"item_id\": 8}]}").status())
        .isEqualTo(503);
    assertThat(metric("infergate_features_stale_total{input=\"a\",model=\"stale\"}")).isEqualTo(2.0);

    // An outage of seconds, long enough for reconnect attempts to back off.
    Thread.sleep(5_000);
    redis = startRedis();
    seed();
    long back = System.nanoTime();
    Traffic.awaitCondition(() -> {
      try {
        return server.post("/v1/models/fetched:predict", "{\"instances\": [{\"user_id\": \"u1\", \"item_id\": 7}]}").status() == 200;
      } catch (Exception e) {
        return false;
      }
    }, 30_000);
    // Lettuce's own back-off reached seconds after a few failed reconnects; it is capped at half a second.
    assertThat((System.nanoTime() - back) / 1_000_000).as("recovery after Redis is back").isLessThan(2_000);
  }

  @Test
  void theLoaderPutsCsvHashesAndJsonLineVectorsIntoRedis() throws Exception {
    Path csv = Files.writeString(dir.resolve("users.csv"), "key,x,y\nuser:u9,0.5,1.5\nuser:u10,2,2\n");
    Path jsonl = Files.writeString(dir.resolve("items.jsonl"),
        "{\"key\": \"item:42\", \"vector\": [4, 8]}\n{\"key\": \"item:43\", \"vector\": [1, 2]}\n");
    var progress = new java.io.ByteArrayOutputStream();
    var loader = new io.infergate.app.features.FeatureLoader(new java.io.PrintStream(progress, true));
    try (var sink = new io.infergate.app.features.RedisSink("redis://127.0.0.1:" + redisPort)) {
      assertThat(loader.load(sink, csv))
          .extracting(s -> s.hashes(), s -> s.vectors(), s -> s.failed()).containsExactly(2L, 0L, 0L);
      assertThat(loader.load(sink, jsonl))
          .extracting(s -> s.hashes(), s -> s.vectors(), s -> s.failed()).containsExactly(0L, 2L, 0L);
    }
    assertThat(progress.toString()).contains("100% 2/2");
    assertThat(server.post("/v1/models/fetched:predict", "{\"instances\": [{\"user_id\": \"u9\", \"item_id\": 42}]}").json())
        .isEqualTo(new JsonObject("{\"predictions\": [{\"sum\": [4.5, 9.5], \"dot\": 14.0}]}"));
  }

  static double cacheHits() throws Exception {
    return metric("infergate_features_cache_total{result=\"hit\"}");
  }

  static double metric(String series) throws Exception {
    return server.metric(series);
  }

  static Process startRedis() throws Exception {
    return TestRedis.start(redisPort, dir.resolve("redis.log"));
  }

  /** Sends one command in Redis's wire protocol over a plain socket and waits for its reply. */
  static void redisCommand(byte[]... command) {
    try (Socket socket = new Socket("127.0.0.1", redisPort)) {
      var out = new java.io.ByteArrayOutputStream();
      out.writeBytes(("*" + command.length + "\r\n").getBytes());
      for (byte[] part : command) {
        out.writeBytes(("$" + part.length + "\r\n").getBytes());
        out.writeBytes(part);
        out.writeBytes("\r\n".getBytes());
      }
      socket.getOutputStream().write(out.toByteArray());
      socket.getOutputStream().flush();
      socket.getInputStream().read();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static void redisCommand(String... command) {
    byte[][] parts = new byte[command.length][];
    for (int i = 0; i < command.length; i++) {
      parts[i] = command[i].getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
    redisCommand(parts);
  }

  static byte[] floats(float... values) {
    ByteBuffer buffer = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      buffer.putFloat(v);
    }
    return buffer.array();
  }
}
