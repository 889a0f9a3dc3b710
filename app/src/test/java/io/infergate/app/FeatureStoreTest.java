package io.infergate.app;

import static org.assertj.core.api.Assertions.assertThat;

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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Online features from a real redis-server (started here; .ci/run installs it): clients send
 * entity ids, the gateway fetches the model's inputs. The model is multi_io: sum = a + b and
 * dot = a · b, so every fetched value shows in the answer.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
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
    try (RedisClient client = RedisClient.create("redis://127.0.0.1:" + redisPort);
         StatefulRedisConnection<String, byte[]> seed = client.connect(RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE))) {
      seed.sync().hset("user:u1", Map.of("x", "1.0".getBytes(), "y", "2.0".getBytes()));
      seed.sync().hset("user:u2", Map.of("x", "3.0".getBytes(), "y", "4.0".getBytes()));
      seed.sync().set("item:7", floats(10, 20));
      seed.sync().set("item:8", floats(30, 40));
      seed.sync().hset("user:u3", Map.of("x", "5.0".getBytes(), "y", "6.0".getBytes()));
      seed.sync().set("item:9", floats(1, 1));
    }
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
    server = TestServer.start("--rest_api_port=0", "--port=0", "--model_config_file=" + models,
        "--feature_config_file=" + features);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
    redis.destroyForcibly().waitFor();
  }

  @Test
  @Order(1)
  void fetchesHashesAndPackedVectorsPerInstanceInOneRequest() throws Exception {
    TestServer.Response response = server.post("/v1/models/fetched:predict",
        "{\"instances\": [{\"user_id\": \"u1\", \"item_id\": 7}, {\"user_id\": \"u2\", \"item_id\": 8}]}");
    assertThat(response.status()).as(response.body()).isEqualTo(200);
    assertThat(response.json()).isEqualTo(new JsonObject("""
        {"predictions": [{"sum": [11.0, 22.0], "dot": 50.0}, {"sum": [33.0, 44.0], "dot": 250.0}]}"""));
  }

  @Test
  @Order(2)
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
  @Order(3)
  void mixesSuppliedInputsWithFetchedOnes() throws Exception {
    assertThat(server.post("/v1/models/mixed:predict", "{\"instances\": [{\"user_id\": \"u2\", \"b\": [1, 1]}]}").json())
        .isEqualTo(new JsonObject("{\"predictions\": [{\"sum\": [4.0, 5.0], \"dot\": 7.0}]}"));
  }

  @Test
  @Order(4)
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
  @Order(5)
  void aSlowRedisFailsFastOrFallsBackToDefaultsWithinTheTimeout() throws Exception {
    Thread sleeper = new Thread(() -> redisCommand("DEBUG", "SLEEP", "1"));
    sleeper.start();
    Thread.sleep(100);
    long started = System.nanoTime();
    TestServer.Response failFast = server.post("/v1/models/fetched:predict", "{\"instances\": [{\"user_id\": \"u3\", \"item_id\": 9}]}");
    assertThat(failFast.status()).isEqualTo(503);
    assertThat(failFast.json().getString("error")).contains("Feature store unavailable");
    assertThat((System.nanoTime() - started) / 1_000_000).as("bounded by the 200 ms feature timeout").isLessThan(800);
    TestServer.Response defaults = server.post("/v1/models/forgiving:predict", "{\"instances\": [{\"user_id\": \"u5\", \"item_id\": 11}]}");
    assertThat(defaults.json()).isEqualTo(new JsonObject("{\"predictions\": [{\"sum\": [6.0, 6.0], \"dot\": 10.0}]}"));
    sleeper.join();
  }

  @Test
  @Order(6)
  void aRedisOutageNeverHangsAndServiceResumesByItself() throws Exception {
    String seen = "{\"instances\": [{\"user_id\": \"u2\", \"item_id\": 8}]}";
    JsonObject fresh = server.post("/v1/models/stale:predict", seen).json();
    assertThat(fresh).isEqualTo(new JsonObject("{\"predictions\": [{\"sum\": [33.0, 44.0], \"dot\": 250.0}]}"));
    redis.destroyForcibly().waitFor();
    long started = System.nanoTime();
    assertThat(server.post("/v1/models/fetched:predict", "{\"instances\": [{\"user_id\": \"u1\", \"item_id\": 7}]}").status())
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
    redisCommand("HSET", "user:u1", "x", "1.0", "y", "2.0");
    redisCommand("SET".getBytes(), "item:7".getBytes(), floats(10, 20));
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
  @Order(7)
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

  /** The value of one series in a live scrape; 0 when absent. */
  static double metric(String series) throws Exception {
    String metrics = server.get("/monitoring/prometheus/metrics").body();
    return metrics.lines().filter(line -> line.startsWith(series + " "))
        .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).sum();
  }

  static Process startRedis() throws Exception {
    Process process = new ProcessBuilder("redis-server", "--port", Integer.toString(redisPort), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no", "--enable-debug-command", "yes").redirectErrorStream(true).redirectOutput(dir.resolve("redis.log").toFile())
        .start();
    long deadline = System.currentTimeMillis() + 10_000;
    while (System.currentTimeMillis() < deadline) {
      try (Socket socket = new Socket("127.0.0.1", redisPort)) {
        return process;
      } catch (IOException notYet) {
        Thread.sleep(50);
      }
    }
    throw new IllegalStateException("redis-server did not start on port " + redisPort);
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
