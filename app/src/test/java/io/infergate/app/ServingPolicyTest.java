package io.infergate.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.infergate.proto.serving.ModelSpec;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.proto.serving.PredictionServiceGrpc;
import io.infergate.worker.TestModels;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Serving policies through the real APIs of a real server: quotas from the policy file (REST
 * 429 with Retry-After, gRPC RESOURCE_EXHAUSTED), set and cleared through the admin API and
 * changed live in the file; the response cache answering without a worker, shared through a
 * real Redis with a second gateway, and never answering for a version that left service;
 * priorities as clients name them.
 */
class ServingPolicyTest {

  static final String ADMIN_TOKEN = "policy-test-admin-token";
  static final String REQUEST = "{\"instances\": [1.0, 2.0]}";
  static final String ANSWER = "{\"predictions\":[2.5,3.0]}";

  @TempDir
  static Path dir;

  static Process redis;
  static Path policyFile;
  static Path cachedBase;
  static TestServer server;
  static TestServer second;
  static ManagedChannel channel;

  @BeforeAll
  static void start() throws Exception {
    int redisPort = TestServer.freePort();
    redis = TestRedis.start(redisPort, dir.resolve("redis.log"));
    Path halfPlusTwo = TestModels.tfServing("saved_model_half_plus_two_cpu");
    cachedBase = dir.resolve("cached");
    ModelFolders.publish(halfPlusTwo.resolve("00000123"), cachedBase, 1);
    Path config = Files.writeString(dir.resolve("models.config"), """
        model_config_list {
          config { name: "cached" base_path: "%s" }
          config { name: "limited" base_path: "%s" }
          config { name: "plain" base_path: "%s" }
          config { name: "live" base_path: "%s" }
          config { name: "open" base_path: "%s" }
        }""".formatted(cachedBase, halfPlusTwo, halfPlusTwo, halfPlusTwo, halfPlusTwo));
    policyFile = Files.writeString(dir.resolve("policy.pbtxt"), policy(""));
    String[] flags = {"--rest_api_port=0", "--model_config_file=" + config, "--enable_batching",
        "--file_system_poll_wait_seconds=1", "--serving_policy_file=" + policyFile,
        "--serving_policy_file_poll_wait_seconds=1", "--response_cache_redis=redis://127.0.0.1:" + redisPort,
        "--admin_token=" + ADMIN_TOKEN};
    server = TestServer.start(withGrpc(flags));
    second = TestServer.start(withGrpc(flags));
    channel = ManagedChannelBuilder.forAddress("localhost", server.server.grpcPort()).usePlaintext().build();
  }

  static String[] withGrpc(String[] flags) throws Exception {
    String[] all = java.util.Arrays.copyOf(flags, flags.length + 1);
    all[flags.length] = "--port=" + TestServer.freePort();
    return all;
  }

  /** The test's policy file, with {@code extra} model policies. */
  static String policy(String extra) {
    return """
        tenant_header: "X-Api-Key"
        models {
          model: "limited"
          quota { requests_per_second: 0.1 burst: 4 }
          tenants { key: "gold" value { requests_per_second: 0.1 burst: 3 } }
          other_tenants { requests_per_second: 0.1 burst: 1 }
        }
        models { model: "cached" default_priority: HIGH cache { ttl_millis: 600000 shared: true } }
        """ + extra;
  }

  @AfterAll
  static void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    second.close();
    server.close();
    redis.destroyForcibly().waitFor();
  }

  @Test
  void quotasRefuseWithTooManyRequestsAndWhenToRetryAndKeepTenantsApart() throws Exception {
    assertThat(predict(server, "limited", "X-Api-Key", "gold").statusCode()).isEqualTo(200);
    assertThat(predict(server, "limited", "X-Api-Key", "gold").statusCode()).isEqualTo(200);
    assertThat(predict(server, "limited", "X-Api-Key", "gold").statusCode()).isEqualTo(200);
    HttpResponse<Buffer> refused = predict(server, "limited", "X-Api-Key", "gold");
    assertThat(refused.statusCode()).isEqualTo(429);
    assertThat(Long.parseLong(refused.getHeader("retry-after"))).isBetween(1L, 10L);
    assertThat(refused.bodyAsJsonObject().getString("error")).contains("Quota exceeded for tenant gold of model limited");
    // Every other tenant, named or not, shares one quota of 1.
    assertThat(predict(server, "limited", "X-Api-Key", "someone").statusCode()).isEqualTo(200);
    assertThat(predict(server, "limited", "X-Api-Key", "someone-else").statusCode()).isEqualTo(429);
    assertThat(predict(server, "limited", null, null).statusCode()).isEqualTo(429);
    // gRPC: the tenant from metadata, and RESOURCE_EXHAUSTED.
    Metadata gold = new Metadata();
    gold.put(Metadata.Key.of("x-api-key", Metadata.ASCII_STRING_MARSHALLER), "gold");
    var stub = PredictionServiceGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(gold));
    assertThatThrownBy(() -> stub.predict(grpcRequest("limited")))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
          // When gRPC's retry policy may try again: when the quota has a token again.
          assertThat(Long.parseLong(e.getTrailers().get(Metadata.Key.of("grpc-retry-pushback-ms",
              Metadata.ASCII_STRING_MARSHALLER)))).isBetween(1_000L, 10_000L);
        });
    assertThat(metric(server, "infergate_quota_rejected_total", "model=\"limited\"")).isGreaterThanOrEqualTo(4);
  }

  @Test
  void theAdminApiSetsAPolicyForEveryGatewayAndClearingItLiftsIt() throws Exception {
    HttpResponse<Buffer> set = admin(server, HttpMethod.PUT, "/admin/models/plain/policy",
        "{\"quota\": {\"requests_per_second\": 0.1, \"burst\": 1}, \"default_priority\": \"LOW\"}");
    assertThat(set.statusCode()).isEqualTo(200);
    assertThat(set.bodyAsJsonObject().getString("source")).isEqualTo("admin");
    assertThat(set.bodyAsJsonObject().getJsonObject("policy").getString("default_priority")).isEqualTo("LOW");
    assertThat(predict(server, "plain", null, null).statusCode()).isEqualTo(200);
    assertThat(predict(server, "plain", null, null).statusCode()).isEqualTo(429);
    // The second server (a process of its own, so another registry) does not share it: admin policies are
    // cluster-wide through the cluster's registry, not across separate single-process servers.
    assertThat(admin(second, HttpMethod.GET, "/admin/models/plain/policy", null).bodyAsJsonObject()
        .getString("source")).isEqualTo("none");
    assertThat(admin(server, HttpMethod.PUT, "/admin/models/plain/policy", "{\"quota\": {\"burst\": 5}}").statusCode())
        .isEqualTo(400);
    assertThat(admin(server, HttpMethod.PUT, "/admin/models/plain/policy", "{\"quota\": ").statusCode()).isEqualTo(400);
    assertThat(admin(server, HttpMethod.DELETE, "/admin/models/plain/policy", null).bodyAsJsonObject()
        .getString("source")).isEqualTo("none");
    for (int i = 0; i < 5; i++) {
      assertThat(predict(server, "plain", null, null).statusCode()).isEqualTo(200);
    }
    assertThat(admin(server, HttpMethod.GET, "/admin/models/plain/policy", null).statusCode()).isEqualTo(200);
    assertThat(server.get("/admin/models/plain/policy").status()).as("no token").isEqualTo(401);
  }

  @Test
  void aChangedPolicyFileAppliesWithoutARestartAndABrokenOneIsIgnored() throws Exception {
    assertThat(predict(server, "live", null, null).statusCode()).isEqualTo(200);
    ModelFolders.replace(policyFile, policy("models { model: \"live\" quota { requests_per_second: 0.1 burst: 1 } }"));
    Traffic.awaitCondition(() -> {
      try {
        return predict(server, "live", null, null).statusCode() == 429;
      } catch (Exception e) {
        return false;
      }
    }, 10_000);
    ModelFolders.replace(policyFile, "models { model: \"live\" quota { requests_per_second: -5 } }");
    Thread.sleep(2_500);
    assertThat(predict(server, "live", null, null).statusCode()).as("the last good policy stays").isEqualTo(429);
    ModelFolders.replace(policyFile, policy(""));
    Traffic.awaitCondition(() -> {
      try {
        return predict(server, "live", null, null).statusCode() == 200;
      } catch (Exception e) {
        return false;
      }
    }, 10_000);
  }

  @Test
  void cachedAnswersSkipTheWorkerAreSharedAndNeverOutliveTheirVersion() throws Exception {
    double runs = metric(server, "infergate_batch_inferences_total", "model=\"cached\"");
    HttpResponse<Buffer> first = predict(server, "cached", null, null);
    assertThat(first.bodyAsString()).isEqualTo(ANSWER);
    assertThat(first.getHeader("x-model-version")).isEqualTo("1");
    HttpResponse<Buffer> again = predict(server, "cached", null, null);
    assertThat(again.bodyAsString()).isEqualTo(ANSWER);
    assertThat(again.getHeader("x-model-version")).isEqualTo("1");
    assertThat(metric(server, "infergate_batch_inferences_total", "model=\"cached\"")).as("one run only").isEqualTo(runs + 1);
    assertThat(metric(server, "infergate_response_cache_hits_total", "tier=\"local\"")).isEqualTo(1);

    // The second gateway has never seen the request: Redis has its answer.
    double secondRuns = metric(second, "infergate_batch_inferences_total", "model=\"cached\"");
    assertThat(predict(second, "cached", null, null).bodyAsString()).isEqualTo(ANSWER);
    assertThat(metric(second, "infergate_response_cache_hits_total", "tier=\"shared\"")).isEqualTo(1);
    assertThat(metric(second, "infergate_batch_inferences_total", "model=\"cached\"")).isEqualTo(secondRuns);

    // Version 2 replaces 1: the cached answer of 1 is not served for it.
    ModelFolders.publish(TestModels.tfServing("saved_model_half_plus_two_cpu").resolve("00000123"), cachedBase, 2);
    Traffic.awaitCondition(() -> {
      try {
        return "2".equals(predict(server, "cached", null, null).getHeader("x-model-version"))
            && !server.get("/v1/models/cached/versions/1").body().contains("AVAILABLE");
      } catch (Exception e) {
        return false;
      }
    }, 30_000);
    assertThat(metric(server, "infergate_response_cache_evictions_total", "reason=\"version\"")).isGreaterThanOrEqualTo(1);
    HttpResponse<Buffer> fresh = predict(server, "cached", null, null);
    assertThat(fresh.getHeader("x-model-version")).isEqualTo("2");
    assertThat(fresh.bodyAsString()).isEqualTo(ANSWER);
    assertThat(metric(server, "infergate_response_cache_bytes", "model=\"cached\"")).isPositive();
  }

  @Test
  void clientsNameAPriorityByHeaderOrParameterAndANonsenseOneIsTheirError() throws Exception {
    assertThat(predict(server, "open", "x-infergate-priority", "low").statusCode()).isEqualTo(200);
    assertThat(predict(server, "open", "x-infergate-priority", "1").statusCode()).isEqualTo(200);
    HttpResponse<Buffer> wrong = predict(server, "open", "x-infergate-priority", "urgent");
    assertThat(wrong.statusCode()).isEqualTo(400);
    assertThat(wrong.bodyAsJsonObject().getString("error")).contains("Priority must be");
    String infer = "{\"inputs\": [{\"name\": \"x\", \"shape\": [2], \"datatype\": \"FP32\", \"data\": [1.0, 2.0]}],"
        + " \"parameters\": {\"priority\": %s}}";
    assertThat(server.post("/v2/models/open/infer", infer.formatted("3")).status()).isEqualTo(200);
    assertThat(server.post("/v2/models/open/infer", infer.formatted("\"high\"")).status()).isEqualTo(200);
    assertThat(server.post("/v2/models/open/infer", infer.formatted("9")).status()).isEqualTo(400);
    assertThat(server.post("/v2/models/open/infer", infer.formatted("[1]")).status()).isEqualTo(400);
    Metadata urgent = new Metadata();
    urgent.put(Metadata.Key.of("x-infergate-priority", Metadata.ASCII_STRING_MARSHALLER), "urgent");
    assertThatThrownBy(() -> PredictionServiceGrpc.newBlockingStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(urgent)).predict(grpcRequest("open")))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
  }

  static HttpResponse<Buffer> predict(TestServer target, String model, String header, String value) throws Exception {
    var request = target.client().request(HttpMethod.POST, target.server.restPort(), "localhost",
        "/v1/models/" + model + ":predict");
    if (header != null) {
      request.putHeader(header, value);
    }
    return TestServer.await(request.sendBuffer(Buffer.buffer(REQUEST)));
  }

  static HttpResponse<Buffer> admin(TestServer target, HttpMethod method, String path, String body) throws Exception {
    var request = target.client().request(method, target.server.restPort(), "localhost", path)
        .putHeaders(MultiMap.caseInsensitiveMultiMap().add("authorization", "Bearer " + ADMIN_TOKEN));
    return TestServer.await(body == null ? request.send() : request.sendBuffer(Buffer.buffer(body)));
  }

  static PredictRequest grpcRequest(String model) {
    return PredictRequest.newBuilder().setModelSpec(ModelSpec.newBuilder().setName(model))
        .putInputs("x", TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
            .setTensorShape(TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(2)))
            .addFloatVal(1).addFloatVal(2).build()).build();
  }

  /** The sum of a metric's series whose labels contain {@code label}, from a live scrape. */
  static double metric(TestServer target, String name, String label) throws Exception {
    Matcher matcher = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{([^}]*)\\} ([0-9.eE+-]+)$")
        .matcher(target.get("/monitoring/prometheus/metrics").body());
    double sum = 0;
    while (matcher.find()) {
      if (matcher.group(1).contains(label)) {
        sum += Double.parseDouble(matcher.group(2));
      }
    }
    return sum;
  }
}
