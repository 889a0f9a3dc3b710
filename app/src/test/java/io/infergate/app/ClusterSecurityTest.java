package io.infergate.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.core.HazelcastInstance;
import io.infergate.common.bus.Addresses;
import io.infergate.common.cluster.ClusterOptions;
import io.infergate.common.cluster.ClusterSecret;
import io.infergate.common.cluster.Clustering;
import io.infergate.common.registry.StoredModelRegistry;
import io.infergate.proto.registry.ServableEntry;
import io.infergate.proto.serving.ModelVersionStatus;
import io.infergate.worker.TestModels;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cluster with a secret and mutual TLS on the event bus, and the processes that try to get at
 * it: one without the secret, and a rogue that learned the Hazelcast cluster name (as someone
 * sniffing the pod network could) but has neither the secret nor a bus certificate.
 */
class ClusterSecurityTest {

  private static final String SECRET = "0123456789abcdef0123456789abcdef-test";
  private static final String REQUEST = "{\"instances\": [1.0]}";

  @TempDir
  static Path dir;

  static String name;
  static ClusterNodes.Member worker;
  static ClusterNodes.Member gateway;
  static TestServer client;

  @BeforeAll
  static void startCluster() throws Exception {
    TestCertificates authority = TestCertificates.authority(dir, "cluster");
    TestCertificates.Issued workerCert = authority.issue("worker", "127.0.0.1");
    TestCertificates.Issued gatewayCert = authority.issue("gateway", "127.0.0.1");
    name = "secure-" + UUID.randomUUID();
    Path config = Files.writeString(dir.resolve("models.config"), """
        model_config_list { config { name: "hp" base_path: "%s" } }"""
        .formatted(TestModels.tfServing("saved_model_half_plus_two_cpu")));
    worker = TestServer.await(ClusterNodes.start(options(workerCert, authority),
        TestServer.options("--model_config_file=" + config, "--rest_api_port=0", "--port=0").worker(), null, 2));
    // A short deadline: the requests that Vert.x hands to the rogue's unreachable consumer wait it out.
    GatewayFlags flags = new GatewayFlags();
    new picocli.CommandLine(flags).parseArgs("--rest_api_host=127.0.0.1", "--rest_api_port=0", "--port=0",
        "--rest_api_timeout_in_ms=1500");
    gateway = TestServer.await(ClusterNodes.start(options(gatewayCert, authority), null, flags.toOptions("test"), 2));
    client = TestServer.of(gateway.node());
    Traffic.awaitCondition(ClusterSecurityTest::serves, 30_000);
  }

  private static boolean serves() {
    try {
      return client.post("/v1/models/hp:predict", REQUEST).status() == 200;
    } catch (Exception e) {
      return false;
    }
  }

  @AfterAll
  static void stopCluster() throws Exception {
    if (client != null) {
      client.close();
    }
    if (worker != null) {
      TestServer.await(worker.node().close());
    }
  }

  @Test
  void membersWithTheSecretAndCertificatesServe() throws Exception {
    TestServer.Response response = client.post("/v1/models/hp:predict", REQUEST);
    assertThat(response.body()).isEqualTo("{\"predictions\":[2.5]}");
    assertThat(worker.hazelcast().getConfig().getClusterName()).as("derived from the secret")
        .startsWith(name + "-").isNotEqualTo(name);
  }

  /** Knowing the cluster's given name and a member's address is not enough to join. */
  @Test
  void aProcessWithoutTheSecretDoesNotJoin() throws Exception {
    var stranger = TestServer.await(Clustering.start(new ClusterOptions(name, "127.0.0.1", 5901,
        List.of("127.0.0.1:5901", "127.0.0.1:5902", "127.0.0.1:5903"), "", "", false, 0, null, null),
        new VertxOptions(), new SimpleMeterRegistry()));
    try {
      HazelcastInstance joined = stranger.manager().getHazelcastInstance();
      assertThat(joined.getCluster().getMembers()).hasSize(1);
      assertThat(worker.hazelcast().getCluster().getMembers()).hasSize(2);
    } finally {
      TestServer.await(stranger.vertx().close());
    }
  }

  /**
   * A rogue inside Hazelcast cannot route traffic to itself: its registry entries carry no valid
   * seal and are ignored, its bus consumers are unreachable without a certificate the cluster's
   * CA signed, and it cannot send to a worker either.
   */
  @Test
  void aRogueThatGotIntoHazelcastCannotTakeOrSendTraffic() throws Exception {
    String sniffedName = new ClusterSecret(SECRET).clusterName(name);
    var rogue = TestServer.await(Clustering.start(new ClusterOptions(sniffedName, "127.0.0.1", 5901,
        List.of("127.0.0.1:5901", "127.0.0.1:5902", "127.0.0.1:5903"), "", "", false, 0, null, null),
        new VertxOptions(), new SimpleMeterRegistry()));
    try {
      HazelcastInstance hazelcast = rogue.manager().getHazelcastInstance();
      assertThat(hazelcast.getCluster().getMembers()).as("inside Hazelcast").hasSize(3);
      String rogueId = hazelcast.getCluster().getLocalMember().getUuid().toString();

      // Announces a newer version of hp, served by itself, unsealed.
      hazelcast.getReplicatedMap("infergate-servables").put("hp/999@" + rogueId, ServableEntry.newBuilder()
          .setModel("hp").setVersion(999).setState(ModelVersionStatus.State.AVAILABLE_VALUE).setWorker(rogueId)
          .build().toByteArray());
      StoredModelRegistry registry = (StoredModelRegistry) gateway.node().registry();
      Traffic.awaitCondition(() -> registry.rejectedEntries() == 1, 10_000);
      assertThat(registry.snapshot().model("hp").orElseThrow().versions()).containsOnlyKeys(123L);

      // Listens on the worker's own servable address, hoping to be picked.
      String address = Addresses.servable(new io.infergate.common.ServableId("hp", 123),
          worker.hazelcast().getCluster().getLocalMember().getAttribute("__vertx.nodeId"));
      AtomicInteger stolen = new AtomicInteger();
      TestServer.await(rogue.vertx().eventBus().consumer(address, message -> stolen.incrementAndGet()).completion());
      int answered = 0;
      for (int i = 0; i < 8; i++) {
        answered += client.post("/v1/models/hp:predict", REQUEST).status() == 200 ? 1 : 0;
      }
      assertThat(stolen.get()).as("requests that reached the rogue").isZero();
      assertThat(answered).as("the worker still answers (those sent to the rogue time out)").isPositive();

      // Sends a request straight to the worker.
      var sent = rogue.vertx().eventBus().request(address, "anything", new DeliveryOptions().setSendTimeout(3_000));
      assertThat(sent.toCompletionStage().toCompletableFuture()).failsWithin(java.time.Duration.ofSeconds(10));
    } finally {
      TestServer.await(rogue.vertx().close());
    }
    Traffic.awaitCondition(ClusterSecurityTest::serves, 30_000);
  }

  private static ClusterOptions options(TestCertificates.Issued cert, TestCertificates authority) throws Exception {
    return new ClusterOptions(name, "127.0.0.1", 5901, List.of("127.0.0.1:5901", "127.0.0.1:5902", "127.0.0.1:5903"),
        "", "", false, 0, new ClusterSecret(SECRET), new ClusterOptions.BusTls(Files.readString(cert.cert()),
        Files.readString(cert.key()), Files.readString(authority.caCert())));
  }
}
