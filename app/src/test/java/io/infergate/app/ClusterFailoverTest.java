package io.infergate.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.infergate.common.cluster.ClusterOptions;
import io.infergate.worker.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Workers lost one after the other, on a cluster of its own (a gateway, two workers on loopback). */
class ClusterFailoverTest {

  static final String REQUEST = ClusterTest.REQUEST;
  static final String ANSWER = ClusterTest.ANSWER;

  @TempDir
  Path dir;

  ClusterNodes.Member workerA;
  ClusterNodes.Member workerB;
  ClusterNodes.Member gateway;
  TestServer client;

  @BeforeEach
  void startCluster() throws Exception {
    ClusterOptions cluster = new ClusterOptions("failover-" + UUID.randomUUID(), "127.0.0.1", 5821,
        List.of("127.0.0.1"), "", "", false, 0, null, null);
    Path config = Files.writeString(dir.resolve("models.config"), """
        model_config_list { config { name: "hp" base_path: "%s" model_version_policy { all {} } } }"""
        .formatted(TestModels.tfServing("saved_model_half_plus_two_2_versions")));
    var worker = TestServer.options("--model_config_file=" + config, "--rest_api_port=0", "--port=0").worker();
    workerA = TestServer.await(ClusterNodes.start(cluster, worker, null, 2));
    workerB = TestServer.await(ClusterNodes.start(cluster, worker, null, 2));
    gateway = TestServer.await(ClusterNodes.start(cluster, null, ClusterTest.gateway(null), 2));
    client = TestServer.of(gateway.node());
    Traffic.awaitCondition(() -> ClusterTest.workersOf(client, "123") == 2, 30_000);
  }

  @AfterEach
  void stopCluster() throws Exception {
    client.close();
    for (ClusterNodes.Member member : new ClusterNodes.Member[] {workerA, workerB}) {
      if (member.hazelcast().getLifecycleService().isRunning()) {
        TestServer.await(member.node().close());
      }
    }
  }

  /** The first worker killed under load costs no request; with none left, the answer is 503 at once. */
  @Test
  void losingWorkersUnderLoad() throws Exception {
    try (Traffic traffic = Traffic.start(client, "/v1/models/hp/versions/123:predict", REQUEST, ANSWER)) {
      traffic.awaitThen(() -> traffic.succeeded.get() > 100, 30_000);
      workerB.hazelcast().getLifecycleService().terminate();
      workerB.node().close();
      traffic.awaitThen(() -> ClusterTest.workersOf(client, "123") == 1, 30_000);
      traffic.close();
      assertThat(traffic.failures).isEmpty();
      assertThat(traffic.succeeded.get()).isGreaterThan(150);
    }

    workerA.hazelcast().getLifecycleService().terminate();
    workerA.node().close();
    Traffic.awaitCondition(() -> ClusterTest.workersOf(client, "123") == 0, 30_000);
    long started = System.nanoTime();
    TestServer.Response response = client.post("/v1/models/hp:predict", REQUEST);
    assertThat(response.status()).isEqualTo(503);
    assertThat((System.nanoTime() - started) / 1_000_000).as("at once, not at the 10 s deadline").isLessThan(5_000);
    assertThat(client.get("/v2/health/ready").status()).isEqualTo(503);
  }
}
