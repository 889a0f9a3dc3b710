package io.infergate.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.infergate.app.demo.DemoCtrTrainer;
import io.infergate.app.demo.DemoFeatures;
import io.infergate.common.cluster.ClusterOptions;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A fresh process reports ready only once its whole request path is warm: real servers on the
 * demo CTR model with online features in the embedded Hazelcast map, probed over REST, the Open
 * Inference Protocol and gRPC health while the warm-up runs, its requests counted by protocol.
 */
class PathWarmupTest {

  private static final String PREDICT = "{\"instances\": [{\"user_features\": [1, 0, 0, 0, 0, 0, 0, 0], "
      + "\"item_features\": [0, 1, 0, 0, 0, 0, 0, 0]}]}";
  private static final String[] PROTOCOLS = {"rest_predict", "rest_infer", "grpc_predict", "grpc_infer"};

  @TempDir
  static Path dir;

  @BeforeAll
  static void trainDemoModel() throws Exception {
    new DemoCtrTrainer(7, 2, 16, false, new java.io.PrintStream(java.io.OutputStream.nullOutputStream())).train(dir);
    DemoFeatures.write(dir, 20, 20, 7);
  }

  private static TestServer start(String... warmup) throws Exception {
    String[] base = {"--rest_api_port=0", "--port=" + TestServer.freePort(), "--model_name=ctr",
        "--model_base_path=" + dir.resolve("ctr"), "--feature_config_file=" + dir.resolve(DemoFeatures.HAZELCAST_CONFIG)};
    String[] args = java.util.Arrays.copyOf(base, base.length + warmup.length);
    System.arraycopy(warmup, 0, args, base.length, warmup.length);
    TestServer server = TestServer.start(args);
    TestServer.await(DemoCommand.loadDemoFeatures(server.server, dir));
    return server;
  }

  @Test
  void everyProbeSaysNotReadyWhileTheWarmupRunsAndItsBoundEndsIt() throws Exception {
    // More requests than can be sent within the bound: the warm-up is still running when probed.
    try (TestServer server = start("--path_warmup_requests=1000000", "--path_warmup_timeout_seconds=4")) {
      long started = System.nanoTime();
      ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.server.grpcPort()).usePlaintext()
          .build();
      HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
      Iterator<HealthCheckResponse> watch = health.watch(HealthCheckRequest.getDefaultInstance());
      assertThat(watch.next().getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.NOT_SERVING);
      assertThat(health.watch(HealthCheckRequest.newBuilder().setService("no.such.Service").build()).next().getStatus())
          .isEqualTo(HealthCheckResponse.ServingStatus.SERVICE_UNKNOWN);
      assertThat(server.get("/readyz").status()).isEqualTo(503);
      assertThat(server.get("/v2/health/ready").status()).isEqualTo(503);
      assertThat(grpcHealth(server)).isEqualTo(HealthCheckResponse.ServingStatus.NOT_SERVING);
      // It already answers: the warm-up's own requests come through the same listeners.
      assertThat(server.post("/v1/models/ctr:predict", PREDICT).status()).isEqualTo(200);
      assertThat(server.metric("infergate_warmup_progress")).isBetween(0.0, 0.99);

      Traffic.awaitCondition(() -> status(server, "/readyz") == 200, 30_000);
      assertThat((System.nanoTime() - started) / 1_000_000).as("ready at the bound, not before").isGreaterThan(3_000);
      assertThat(server.get("/v2/health/ready").status()).isEqualTo(200);
      assertThat(grpcHealth(server)).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
      assertThat(watch.next().getStatus()).as("the watch hears of the change").isEqualTo(
          HealthCheckResponse.ServingStatus.SERVING);
      assertThat(server.metric("infergate_warmup_progress")).isEqualTo(1.0);
      channel.shutdownNow();
    }
  }

  @Test
  void theWarmupSendsEveryKindOfRequestThroughTheFeatureStoreAndTheWorker() throws Exception {
    int each = 30;
    try (TestServer server = start("--path_warmup_requests=" + each, "--path_warmup_timeout_seconds=120")) {
      Traffic.awaitCondition(() -> status(server, "/readyz") == 200, 60_000);
      for (String protocol : PROTOCOLS) {
        // Each protocol twice over: with entity ids (features fetched) and with every input supplied.
        assertThat(server.metric("infergate_warmup_requests_total{outcome=\"ok\",protocol=\"" + protocol
            + "\"}")).as(protocol).isGreaterThanOrEqualTo(each);
        assertThat(warmupRequests(server, protocol)).as(protocol).isEqualTo(2.0 * each);
      }
      // The made-up entities were looked up in the store (unknown: the item takes its defaults, the user has none).
      String fetches = "infergate_features_fetch_seconds_count{model=\"ctr\",outcome=\"";
      assertThat(server.metric(fetches + "ok\"}") + server.metric(fetches + "error\"}"))
          .as("both inputs of every request with entity ids").isGreaterThanOrEqualTo(4.0 * each * 2);
      assertThat(server.metric("tensorflow_serving_request_count_total{model_name=\"ctr\",status=\"OK\"}"))
          .as("predictions the model answered, over each protocol").isGreaterThanOrEqualTo(4.0 * each);
    }
  }

  @Test
  void withoutAWarmupTheServerIsReadyAtOnce() throws Exception {
    try (TestServer server = start("--path_warmup_requests=0")) {
      assertThat(server.get("/readyz").status()).isEqualTo(200);
      assertThat(server.metric("infergate_warmup_progress")).isEqualTo(1.0);
      assertThat(warmupRequests(server, "rest_predict")).isZero();
    }
  }

  @Test
  void aJoiningGatewayIsReadyOnlyAfterItsWarmupReachedEveryWorkerOverTheBus() throws Exception {
    ClusterOptions cluster = new ClusterOptions("warmup-" + UUID.randomUUID(), "127.0.0.1", 5851,
        List.of("127.0.0.1"), "", "", false, 0, null, null);
    var worker = TestServer.options("--model_name=ctr", "--model_base_path=" + dir.resolve("ctr"), "--rest_api_port=0",
        "--port=0").worker();
    List<ClusterNodes.Member> workers = List.of(TestServer.await(ClusterNodes.start(cluster, worker, null, 2)),
        TestServer.await(ClusterNodes.start(cluster, worker, null, 2)));
    // Both workers in the registry before the gateway joins, as in a running cluster.
    Traffic.awaitCondition(() -> workers.get(0).node().registry().snapshot().model("ctr")
        .flatMap(model -> model.latestAvailable()).map(record -> record.workers().size()).orElse(0) == 2, 30_000);
    GatewayCommand command = new GatewayCommand();
    new CommandLine(command).parseArgs("--rest_api_port=0", "--port=" + TestServer.freePort(),
        "--path_warmup_requests=40", "--cluster_members=127.0.0.1");
    ClusterNodes.Member gateway = TestServer.await(ClusterNodes.start(cluster, null, command.gateway.toOptions("test"), 2));
    try (TestServer client = TestServer.of(gateway.node())) {
      assertThat(busRequestsReceived(workers)).isEmpty();
      TestServer.await(gateway.node().warm());
      assertThat(client.get("/readyz").status()).isEqualTo(200);
      // Sent in turn over the bus: each worker's address took its share of the warm-up's 160 requests.
      assertThat(busRequestsReceived(workers)).hasSize(2).allSatisfy((address, received) ->
          assertThat(received).as(address).isGreaterThan(40));
    } finally {
      TestServer.await(gateway.node().close());
      for (ClusterNodes.Member member : workers) {
        TestServer.await(member.node().close());
      }
    }
  }

  /**
   * Messages each worker address took from other members over the event bus. Members in one JVM
   * share Vert.x's meters, so the workers' scrapes are merged by address.
   */
  private static Map<String, Double> busRequestsReceived(List<ClusterNodes.Member> workers) {
    Pattern received = Pattern.compile("^vertx_eventbus_received_total\\{address=\"(infergate\\.servable\\.[^\"]+)\",side=\"remote\"} (\\S+)$");
    Map<String, Double> byAddress = new TreeMap<>();
    for (ClusterNodes.Member worker : workers) {
      worker.node().prometheus().scrape().lines().map(received::matcher).filter(Matcher::matches)
          .forEach(line -> byAddress.put(line.group(1), Double.parseDouble(line.group(2))));
    }
    return byAddress;
  }

  private static double warmupRequests(TestServer server, String protocol) throws Exception {
    double sum = 0;
    for (String outcome : new String[] {"ok", "error_status", "failed"}) {
      sum += server.metric("infergate_warmup_requests_total{outcome=\"" + outcome + "\",protocol=\""
          + protocol + "\"}");
    }
    return sum;
  }

  private static int status(TestServer server, String path) {
    try {
      return server.get(path).status();
    } catch (Exception e) {
      return -1;
    }
  }

  private static HealthCheckResponse.ServingStatus grpcHealth(TestServer server) {
    ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.server.grpcPort()).usePlaintext().build();
    try {
      return HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.newBuilder().build()).getStatus();
    } finally {
      channel.shutdownNow();
    }
  }
}
