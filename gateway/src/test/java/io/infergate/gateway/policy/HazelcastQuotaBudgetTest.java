package io.infergate.gateway.policy;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import io.infergate.proto.policy.ModelPolicy;
import io.infergate.proto.policy.Quota;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * One quota for the cluster: two gateways on two real Hazelcast members lease from the same
 * bucket, so together they admit what the quota allows, not twice as much.
 */
@ExtendWith(VertxExtension.class)
class HazelcastQuotaBudgetTest {

  static final int PORT = 5921;
  static HazelcastInstance first;
  static HazelcastInstance second;

  @BeforeAll
  static void startMembers() {
    String cluster = "quota-test-" + UUID.randomUUID();
    first = Hazelcast.newHazelcastInstance(config(cluster));
    second = Hazelcast.newHazelcastInstance(config(cluster));
    assertThat(first.getCluster().getMembers()).hasSize(2);
  }

  @AfterAll
  static void stopMembers() {
    second.shutdown();
    first.shutdown();
  }

  static Config config(String cluster) {
    Config config = new Config().setClusterName(cluster);
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.socket.bind.any", "false");
    config.setProperty("hazelcast.wait.seconds.before.join", "1");
    config.getNetworkConfig().setPort(PORT).setPortAutoIncrement(true).setPortCount(2);
    config.getNetworkConfig().getInterfaces().setEnabled(true).addInterface("127.0.0.1");
    JoinConfig join = config.getNetworkConfig().getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).addMember("127.0.0.1:" + PORT).addMember("127.0.0.1:" + (PORT + 1));
    return config;
  }

  @Test
  void twoGatewaysTogetherAdmitOneQuotasWorth(Vertx vertx) throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    Quotas gatewayA = new Quotas(new HazelcastQuotaBudget(first, vertx.createSharedWorkerExecutor("quota-a", 2)), meters);
    Quotas gatewayB = new Quotas(new HazelcastQuotaBudget(second, vertx.createSharedWorkerExecutor("quota-b", 2)), meters);
    // 100 tokens and a refill of one every ten seconds.
    ModelPolicy slow = ModelPolicy.newBuilder().setModel("shared-" + UUID.randomUUID())
        .setQuota(Quota.newBuilder().setRequestsPerSecond(0.1).setBurst(100)).build();
    int[] admitted = new int[2];
    for (int round = 0; round < 60; round++) {
      admitted[0] += admit(vertx, gatewayA, slow, 3);
      admitted[1] += admit(vertx, gatewayB, slow, 3);
    }
    assertThat(admitted[0] + admitted[1]).as("one bucket of 100 for both").isEqualTo(100);
    assertThat(admitted[0]).isGreaterThan(20);
    assertThat(admitted[1]).isGreaterThan(20);
    assertThat(first.getMap(HazelcastQuotaBudget.MAP).size()).isEqualTo(1);
  }

  private static int admit(Vertx vertx, Quotas quotas, ModelPolicy policy, int count) throws Exception {
    List<Future<Void>> results = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Future<Future<Void>> sent = Future.future(promise -> vertx.runOnContext(v ->
          promise.complete(quotas.admit(policy.getModel(), policy, null))));
      results.add(sent.compose(inner -> inner));
    }
    int ok = 0;
    for (Future<Void> result : results) {
      try {
        result.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        ok++;
      } catch (java.util.concurrent.ExecutionException refused) {
        // counted by what was admitted
      }
    }
    return ok;
  }
}
