package io.infergate.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.infergate.common.cluster.ClusterOptions;
import io.infergate.gateway.GatewayOptions;
import io.infergate.proto.registry.ServableEntry;
import io.infergate.proto.registry.TrafficPolicy;
import io.infergate.proto.serving.FileSystemStoragePathSourceConfig;
import io.infergate.proto.serving.ModelConfig;
import io.infergate.proto.serving.ModelConfigList;
import io.infergate.proto.serving.ModelServerConfig;
import io.infergate.proto.serving.ModelServiceGrpc;
import io.infergate.proto.serving.ModelVersionStatus;
import io.infergate.proto.serving.ReloadConfigRequest;
import io.infergate.proto.serving.ReloadConfigResponse;
import io.infergate.worker.TestModels;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.error.Code;
import picocli.CommandLine;

/**
 * Two gateways and two workers, each its own Vert.x and Hazelcast member on loopback: routing
 * by label, split and sticky header from the shared registry, the admin API, config reloads.
 * Each test leaves the cluster as it found it (no traffic policy, both versions on both
 * workers), so they run in any order; taking workers away is {@link ClusterFailoverTest}'s.
 */
class ClusterTest {

  static final String TOKEN = "test-token";
  static final String REQUEST = "{\"instances\": [1.0, 2.0]}";
  static final String ANSWER = "{\"predictions\":[2.5,3.0]}";

  @TempDir
  static Path dir;

  static ClusterNodes.Member workerA;
  static ClusterNodes.Member workerB;
  static ClusterNodes.Member gatewayA;
  static ClusterNodes.Member gatewayB;
  static TestServer clientA;
  static TestServer clientB;
  static int adminGrpcPort;

  @BeforeAll
  static void startCluster() throws Exception {
    ClusterOptions cluster = new ClusterOptions("test-" + UUID.randomUUID(), "127.0.0.1", 5801,
        List.of("127.0.0.1"), "", "", false, 0, null, null);
    Path config = Files.writeString(dir.resolve("models.config"), """
        model_config_list { config { name: "hp" base_path: "%s" model_version_policy { all {} }
          version_labels { key: "stable" value: 123 } version_labels { key: "canary" value: 124 } } }"""
        .formatted(TestModels.tfServing("saved_model_half_plus_two_2_versions")));
    var worker = TestServer.options("--model_config_file=" + config, "--rest_api_port=0", "--port=0").worker();
    workerA = TestServer.await(ClusterNodes.start(cluster, worker, null, 2));
    workerB = TestServer.await(ClusterNodes.start(cluster, worker, null, 2));
    gatewayA = TestServer.await(ClusterNodes.start(cluster, null, gateway(TOKEN), 2));
    gatewayB = TestServer.await(ClusterNodes.start(cluster, null, gateway(null), 2));
    clientA = TestServer.of(gatewayA.node());
    clientB = TestServer.of(gatewayB.node());
    Traffic.awaitCondition(() -> workersOf(clientB, "123") == 2 && workersOf(clientB, "124") == 2, 30_000);
  }

  @AfterAll
  static void stopCluster() throws Exception {
    for (TestServer client : new TestServer[] {clientA, clientB}) {
      if (client != null) {
        client.close();
      }
    }
    for (ClusterNodes.Member member : new ClusterNodes.Member[] {workerA, workerB}) {
      if (member != null && member.hazelcast().getLifecycleService().isRunning()) {
        TestServer.await(member.node().close());
      }
    }
  }

  @Test
  void bothGatewaysRouteByVersionAndLabel() throws Exception {
    for (TestServer client : new TestServer[] {clientA, clientB}) {
      assertThat(version(client, "/v1/models/hp/labels/stable:predict", null)).isEqualTo("123");
      assertThat(version(client, "/v1/models/hp/labels/canary:predict", null)).isEqualTo("124");
      assertThat(version(client, "/v1/models/hp/versions/123:predict", null)).isEqualTo("123");
      assertThat(version(client, "/v1/models/hp:predict", null)).isEqualTo("124");
    }
  }

  @Test
  void theAdminTokenIsEnforced() throws Exception {
    assertThat(clientA.get("/admin/registry").status()).isEqualTo(401);
    assertThat(admin(clientA, HttpMethod.GET, "/admin/registry", null, "wrong").statusCode()).isEqualTo(401);
    assertThat(admin(clientA, HttpMethod.GET, "/admin/registry", null, TOKEN).statusCode()).isEqualTo(200);
    assertThat(admin(clientB, HttpMethod.GET, "/admin/registry", null, TOKEN).statusCode())
        .as("a gateway started without a token has no admin API").isEqualTo(403);
  }

  @Test
  void theRegistryShowsWhatEachVersionHoldsInMemory() throws Exception {
    JsonObject versions = admin(clientA, HttpMethod.GET, "/admin/registry", null, TOKEN).bodyAsJsonObject()
        .getJsonObject("models").getJsonObject("hp").getJsonObject("versions");
    for (String version : List.of("123", "124")) {
      assertThat(versions.getJsonObject(version).getLong("memory_bytes")).as(version).isPositive();
    }
  }

  @Test
  void aLabelFlipOnOneGatewayReachesTheOtherWithinASecond() throws Exception {
    HttpResponse<Buffer> refused = admin(clientA, HttpMethod.PUT, "/admin/models/hp/labels/stable", "{\"version\": 999}", TOKEN);
    assertThat(refused.statusCode()).isEqualTo(400);
    assertThat(refused.bodyAsString()).contains("not available");

    assertThat(admin(clientA, HttpMethod.PUT, "/admin/models/hp/labels/stable", "{\"version\": 124}", TOKEN)
        .statusCode()).isEqualTo(200);
    long changed = System.nanoTime();
    Traffic.awaitCondition(() -> Long.valueOf(124).equals(
        clientB.server.registry().snapshot().model("hp").orElseThrow().labels().get("stable")), 5_000);
    assertThat((System.nanoTime() - changed) / 1_000_000).as("seen by the other gateway within a second").isLessThan(1_000);
    assertThat(version(clientB, "/v1/models/hp/labels/stable:predict", null)).isEqualTo("124");
    admin(clientA, HttpMethod.PUT, "/admin/models/hp/labels/stable", "{\"version\": 123}", TOKEN);
    Traffic.awaitCondition(() -> "123".equals(versionQuietly(clientB, "/v1/models/hp/labels/stable:predict")), 5_000);
  }

  @Test
  void aWeightedSplitIsObservedWithinTolerance() throws Exception {
    setTraffic("{\"split\": [{\"target\": {\"version\": \"123\"}, \"weight\": 80},"
        + " {\"target\": {\"label\": \"canary\"}, \"weight\": 20}]}");
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < 1000; i++) {
      counts.merge(version(clientB, "/v1/models/hp:predict", null), 1, Integer::sum);
    }
    assertThat(counts.get("124")).as("20%% of 1000 go to the canary, within ±5%%").isBetween(150, 250);
    assertThat(counts.get("123") + counts.get("124")).isEqualTo(1000);
    assertThat(clientB.get("/monitoring/prometheus/metrics").body())
        .contains("infergate_variant_requests_total{model=\"hp\",variant=\"label:canary\"}");
  }

  @Test
  void aStickyHeaderKeepsEachUserOnOneVariant() throws Exception {
    setTraffic("{\"split\": [{\"target\": {\"version\": \"123\"}, \"weight\": 50},"
        + " {\"target\": {\"version\": \"124\"}, \"weight\": 50}], \"sticky_header\": \"x-user-id\"}");
    Map<String, String> assigned = new HashMap<>();
    for (int user = 0; user < 40; user++) {
      for (int i = 0; i < 5; i++) {
        TestServer client = i % 2 == 0 ? clientA : clientB;
        String version = version(client, "/v1/models/hp:predict", "user-" + user);
        String previous = assigned.putIfAbsent("user-" + user, version);
        assertThat(version).as("user-" + user + " keeps one variant on both gateways").isEqualTo(previous == null ? version : previous);
      }
    }
    assertThat(assigned.values()).contains("123", "124");
  }

  @Test
  void shadowCopiesAreMeasuredAndNeverReturned() throws Exception {
    setTraffic("{\"shadow\": [{\"target\": {\"version\": \"123\"}, \"percent\": 100}]}");
    for (int i = 0; i < 20; i++) {
      assertThat(version(clientB, "/v1/models/hp:predict", null)).isEqualTo("124");
    }
    Traffic.awaitCondition(() -> metricsQuietly(clientB)
        .contains("infergate_shadow_latency_seconds_count{model=\"hp\",status=\"OK\",target=\"version:123\"} 20"), 5_000);
  }

  @Test
  void theAdminApiUnloadsAndLoadsAVersionOnEveryWorker() throws Exception {
    assertThat(admin(clientA, HttpMethod.POST, "/admin/models/hp/versions/124/unload", null, TOKEN).statusCode())
        .isEqualTo(202);
    Traffic.awaitCondition(() -> workersOf(clientB, "124") == 0
        && clientB.server.registry().snapshot().model("hp").orElseThrow().versions().get(124L) == null, 30_000);
    assertThat(clientB.post("/v1/models/hp/versions/124:predict", REQUEST).status()).isEqualTo(404);
    assertThat(version(clientB, "/v1/models/hp:predict", null)).isEqualTo("123");

    assertThat(admin(clientA, HttpMethod.POST, "/admin/models/hp/versions/124/load", null, TOKEN).statusCode())
        .isEqualTo(202);
    Traffic.awaitCondition(() -> workersOf(clientB, "124") == 2, 30_000);
    assertThat(version(clientB, "/v1/models/hp/versions/124:predict", null)).isEqualTo("124");
  }

  /** A config reload (gRPC's ModelService) on one gateway is applied by every worker, and answered once they all did. */
  @Test
  void aConfigReloadReachesEveryWorker() throws Exception {
    String base = TestModels.tfServing("saved_model_half_plus_two_2_versions").toString();
    ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", adminGrpcPort).usePlaintext().build();
    try {
      Metadata admin = new Metadata();
      admin.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + TOKEN);
      var models = ModelServiceGrpc.newBlockingStub(channel)
          .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(admin));
      ModelConfig hp = ModelConfig.newBuilder().setName("hp").setBasePath(base).setModelVersionPolicy(
              FileSystemStoragePathSourceConfig.ServableVersionPolicy.newBuilder().setAll(
                  FileSystemStoragePathSourceConfig.ServableVersionPolicy.All.getDefaultInstance()))
          .putVersionLabels("stable", 123).putVersionLabels("canary", 124).build();
      ModelConfig second = ModelConfig.newBuilder().setName("hp2").setBasePath(base).build();

      ReloadConfigResponse added = models.handleReloadConfigRequest(ReloadConfigRequest.newBuilder().setConfig(
          ModelServerConfig.newBuilder().setModelConfigList(ModelConfigList.newBuilder().addConfig(hp).addConfig(second)))
          .build());
      assertThat(added.getStatus().getErrorCode()).isEqualTo(Code.OK);
      assertThat(workersOf(clientB, "hp2", 124)).as("both workers loaded the new model").isEqualTo(2);

      models.handleReloadConfigRequest(ReloadConfigRequest.newBuilder().setConfig(
          ModelServerConfig.newBuilder().setModelConfigList(ModelConfigList.newBuilder().addConfig(hp))).build());
      Traffic.awaitCondition(() -> clientB.server.registry().snapshot().model("hp2").isEmpty(), 10_000);
      assertThat(workersOf(clientB, "hp", 124)).isEqualTo(2);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /**
   * Entries of a worker that is not a member (left behind when their removal failed while the
   * cluster reshaped, as in a partition) are never routed to, and are removed after a while.
   */
  @Test
  void entriesOfAWorkerThatIsNoLongerAMemberAreNeverRouted() throws Exception {
    String ghost = UUID.randomUUID().toString();
    String key = "hp/123@" + ghost;
    gatewayA.hazelcast().getReplicatedMap("infergate-servables").put(key, ServableEntry.newBuilder()
        .setModel("hp").setVersion(123).setState(ModelVersionStatus.State.AVAILABLE_VALUE).setWorker(ghost)
        .build().toByteArray());
    Traffic.awaitCondition(() -> gatewayB.hazelcast().getReplicatedMap("infergate-servables").containsKey(key), 5_000);
    long deadline = System.currentTimeMillis() + 20_000;
    while (gatewayA.hazelcast().getReplicatedMap("infergate-servables").containsKey(key)
        || gatewayB.hazelcast().getReplicatedMap("infergate-servables").containsKey(key)) {
      assertThat(workersOf(clientA, "123")).isEqualTo(2);
      assertThat(workersOf(clientB, "123")).isEqualTo(2);
      assertThat(System.currentTimeMillis()).as("removed within 20 s").isLessThan(deadline);
      Thread.sleep(50);
    }
    assertThat(clientB.post("/v1/models/hp/versions/123:predict", REQUEST).body()).isEqualTo(ANSWER);
  }

  /** A gateway; with an admin token, also with gRPC (for ModelService) on {@link #adminGrpcPort}. */
  static GatewayOptions gateway(String token) throws java.io.IOException {
    GatewayFlags flags = new GatewayFlags();
    List<String> args = new ArrayList<>(List.of("--rest_api_host=127.0.0.1", "--rest_api_port=0",
        "--rest_api_timeout_in_ms=10000"));
    if (token != null) {
      adminGrpcPort = TestServer.freePort();
      args.add("--admin_token=" + token);
      args.add("--port=" + adminGrpcPort);
    } else {
      args.add("--port=0");
    }
    new CommandLine(flags).parseArgs(args.toArray(String[]::new));
    return flags.toOptions("test");
  }

  /** Back to routing without a policy, on both gateways, after a test that set one. */
  @AfterEach
  void clearTraffic() throws Exception {
    if (clientA.server.registry().snapshot().model("hp").orElseThrow().traffic().equals(TrafficPolicy.getDefaultInstance())) {
      return;
    }
    assertThat(admin(clientA, HttpMethod.DELETE, "/admin/models/hp/traffic", null, TOKEN).statusCode()).isEqualTo(200);
    Traffic.awaitCondition(() -> clientB.server.registry().snapshot().model("hp").orElseThrow().traffic()
        .equals(TrafficPolicy.getDefaultInstance()), 5_000);
  }

  static void setTraffic(String policy) throws Exception {
    HttpResponse<Buffer> set = admin(clientA, HttpMethod.PUT, "/admin/models/hp/traffic", policy, TOKEN);
    assertThat(set.statusCode()).as(set.bodyAsString()).isEqualTo(200);
    JsonObject expected = new JsonObject(policy);
    Traffic.awaitCondition(() -> {
      try {
        return new JsonObject(admin(clientA, HttpMethod.GET, "/admin/registry", null, TOKEN).bodyAsString())
            .getJsonObject("models").getJsonObject("hp").getJsonObject("traffic").fieldNames().equals(expected.fieldNames())
            && clientB.server.registry().snapshot().model("hp").orElseThrow().traffic()
                .equals(clientA.server.registry().snapshot().model("hp").orElseThrow().traffic());
      } catch (Exception e) {
        return false;
      }
    }, 5_000);
  }

  static HttpResponse<Buffer> admin(TestServer client, HttpMethod method, String path, String body, String token)
      throws Exception {
    WebClient web = WebClient.create(client.server.vertx());
    try {
      var request = web.request(method, client.server.restPort(), "localhost", path)
          .putHeader("authorization", "Bearer " + token);
      return TestServer.await(body == null ? request.send() : request.sendBuffer(Buffer.buffer(body)));
    } finally {
      web.close();
    }
  }

  static String version(TestServer client, String path, String user) throws Exception {
    WebClient web = WebClient.create(client.server.vertx());
    try {
      var request = web.post(client.server.restPort(), "localhost", path);
      if (user != null) {
        request.putHeader("x-user-id", user);
      }
      HttpResponse<Buffer> response = TestServer.await(request.sendBuffer(Buffer.buffer(REQUEST)));
      assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
      assertThat(response.bodyAsString()).isEqualTo(ANSWER);
      return response.getHeader("x-model-version");
    } finally {
      web.close();
    }
  }

  static String versionQuietly(TestServer client, String path) {
    try {
      return version(client, path, null);
    } catch (Throwable e) {
      return null;
    }
  }

  static String metricsQuietly(TestServer client) {
    try {
      return client.get("/monitoring/prometheus/metrics").body();
    } catch (Exception e) {
      return "";
    }
  }

  static int workersOf(TestServer client, String model, long version) {
    return client.server.registry().snapshot().model(model).map(view -> view.versions().get(version))
        .map(record -> record.workers().size()).orElse(0);
  }

  static int workersOf(TestServer client, String version) {
    return workersOf(client, "hp", Long.parseLong(version));
  }
}
