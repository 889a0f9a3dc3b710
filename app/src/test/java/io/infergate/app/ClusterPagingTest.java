package io.infergate.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.infergate.common.ServableId;
import io.infergate.common.cluster.ClusterOptions;
import io.infergate.common.registry.ServableRecord;
import io.infergate.proto.serving.ModelVersionStatus.State;
import io.infergate.worker.TestModels;
import io.infergate.worker.WorkerOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Paging across processes' worth of cluster members (a gateway and two workers on loopback, the
 * registry in Hazelcast, page-in requests over the event bus): a cold model is loaded on the
 * worker with the most memory left, and found there by a second gateway without loading again.
 */
class ClusterPagingTest {

  static final String REQUEST = "{\"instances\": [1.0, 2.0]}";
  static final String ANSWER = "{\"predictions\":[2.5,3.0]}";

  @TempDir
  Path dir;

  ClusterNodes.Member small;
  ClusterNodes.Member large;
  TestServer clientA;
  TestServer clientB;

  @AfterEach
  void stop() throws Exception {
    for (TestServer client : new TestServer[] {clientA, clientB}) {
      if (client != null) {
        client.close();
      }
    }
    for (ClusterNodes.Member member : new ClusterNodes.Member[] {small, large}) {
      if (member != null) {
        TestServer.await(member.node().close());
      }
    }
  }

  @Test
  void aColdModelLoadsOnTheWorkerWithTheMostRoomOnce() throws Exception {
    ClusterOptions cluster = new ClusterOptions("paging-" + UUID.randomUUID(), "127.0.0.1", 5881,
        List.of("127.0.0.1"), "", "", false, 0, null, null);
    Path config = Files.writeString(dir.resolve("models.config"), """
        model_config_list { config { name: "cold" base_path: "%s" paging: PAGEABLE } }"""
        .formatted(TestModels.tfServing("saved_model_half_plus_two_cpu")));
    small = TestServer.await(ClusterNodes.start(cluster, worker(config, 1L << 30), null, 2));
    large = TestServer.await(ClusterNodes.start(cluster, worker(config, 8L << 30), null, 2));
    clientA = TestServer.of(TestServer.await(ClusterNodes.start(cluster, null, ClusterTest.gateway(null), 2)).node());
    clientB = TestServer.of(TestServer.await(ClusterNodes.start(cluster, null, ClusterTest.gateway(null), 2)).node());
    Traffic.awaitCondition(() -> record(clientA).pageableOn().size() == 2, 30_000);
    assertThat(clientA.get("/readyz").status()).isEqualTo(200);

    assertThat(clientA.post("/v1/models/cold:predict", REQUEST).body()).isEqualTo(ANSWER);
    assertThat(record(clientA).workers()).as("the worker with the most room").containsExactly(nodeId(large));
    Traffic.awaitCondition(() -> record(clientB).isAvailable(), 10_000);
    assertThat(clientB.post("/v1/models/cold:predict", REQUEST).body()).isEqualTo(ANSWER);
    assertThat(record(clientB).workers()).as("the second gateway used the loaded copy").containsExactly(nodeId(large));
  }

  /** A hot model with two replicas on three workers: two keep it, and when one leaves the third takes over. */
  @Test
  void aReplicatedModelIsKeptOnItsCountOfWorkers() throws Exception {
    ClusterOptions cluster = new ClusterOptions("replicas-" + UUID.randomUUID(), "127.0.0.1", 5891,
        List.of("127.0.0.1"), "", "", false, 0, null, null);
    Path config = Files.writeString(dir.resolve("replicas.config"), """
        model_config_list { config { name: "cold" base_path: "%s" paging: PINNED replicas: 2 } }"""
        .formatted(TestModels.tfServing("saved_model_half_plus_two_cpu")));
    small = TestServer.await(ClusterNodes.start(cluster, worker(config, 1L << 30), null, 2));
    large = TestServer.await(ClusterNodes.start(cluster, worker(config, 1L << 30), null, 2));
    ClusterNodes.Member third = TestServer.await(ClusterNodes.start(cluster, worker(config, 1L << 30), null, 2));
    clientA = TestServer.of(TestServer.await(ClusterNodes.start(cluster, null, ClusterTest.gateway(null), 2)).node());
    try {
      Traffic.awaitCondition(() -> record(clientA).workers().size() == 2, 30_000);
      Thread.sleep(2_000);
      assertThat(record(clientA).workers()).as("settled at two, not three").hasSize(2);
      assertThat(clientA.post("/v1/models/cold:predict", REQUEST).body()).isEqualTo(ANSWER);

      ClusterNodes.Member leaving = record(clientA).workers().contains(nodeId(small)) ? small : large;
      String leavingId = nodeId(leaving);
      TestServer.await(leaving.node().close());
      if (leaving == small) {
        small = null;
      } else {
        large = null;
      }
      Traffic.awaitCondition(() -> record(clientA).workers().size() == 2
          && !record(clientA).workers().contains(leavingId), 30_000);
      assertThat(record(clientA).workers()).contains(nodeId(third));
    } finally {
      TestServer.await(third.node().close());
    }
  }

  private static WorkerOptions worker(Path config, long budget) {
    return TestServer.options("--model_config_file=" + config, "--rest_api_port=0", "--port=0",
        "--memory_budget_bytes=" + budget).worker();
  }

  private static ServableRecord record(TestServer client) {
    return client.server.registry().snapshot().model("cold").map(view -> view.versions().get(123L))
        .orElse(ServableRecord.of(new ServableId("cold", 123), State.START));
  }

  /** The id the registry knows a worker by: Vert.x's node id, a Hazelcast member attribute. */
  private static String nodeId(ClusterNodes.Member member) {
    return member.hazelcast().getCluster().getLocalMember().getAttribute("__vertx.nodeId");
  }
}
