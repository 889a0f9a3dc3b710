package io.infergate.gateway.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.infergate.proto.policy.ModelPolicy;
import io.infergate.proto.policy.Quota;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Quotas on one gateway, with its in-memory budget: buckets, bursts, tenants and refusals. */
@ExtendWith(VertxExtension.class)
class QuotasTest {

  final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  final Quotas quotas = new Quotas(new LocalQuotaBudget(), meters);

  static Quota quota(double perSecond, long burst) {
    return Quota.newBuilder().setRequestsPerSecond(perSecond).setBurst(burst).build();
  }

  /** Sends {@code count} requests at once, from an event loop as the gateway does; how many were admitted. */
  int admitted(Vertx vertx, ModelPolicy policy, String tenant, int count) throws Exception {
    List<Future<Void>> results = new ArrayList<>();
    vertx.runOnContext(v -> {
      synchronized (results) {
        for (int i = 0; i < count; i++) {
          results.add(quotas.admit("m", policy, tenant));
        }
        results.notifyAll();
      }
    });
    synchronized (results) {
      while (results.size() < count) {
        results.wait(5_000);
      }
    }
    int ok = 0;
    for (Future<Void> result : results) {
      try {
        result.toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        ok++;
      } catch (java.util.concurrent.ExecutionException e) {
        assertThat(e.getCause()).isInstanceOfSatisfying(ServingException.class, refused -> {
          assertThat(refused.code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED);
          assertThat(refused.retryAfterSeconds()).isBetween(1L, 60L);
          assertThat(refused.getMessage()).contains("Quota exceeded");
        });
      }
    }
    return ok;
  }

  @Test
  void aModelQuotaAdmitsItsBurstAndThenRefusesWithWhenToRetry(Vertx vertx) throws Exception {
    ModelPolicy policy = ModelPolicy.newBuilder().setModel("m").setQuota(quota(0.1, 5)).build();
    assertThat(admitted(vertx, policy, null, 20)).isEqualTo(5);
    assertThat(meters.get("infergate.quota.rejected").tag("model", "m").tag("tenant", "*").counter().count())
        .isEqualTo(15);
  }

  @Test
  void aTenantPastItsOwnQuotaLeavesTheOthersTheirs(Vertx vertx) throws Exception {
    ModelPolicy policy = ModelPolicy.newBuilder().setModel("m").setQuota(quota(0.1, 60))
        .putTenants("greedy", quota(0.1, 20)).putTenants("modest", quota(0.1, 20)).build();
    assertThat(admitted(vertx, policy, "greedy", 200)).isEqualTo(20);
    // The greedy tenant's refused requests took nothing from the model's quota.
    assertThat(admitted(vertx, policy, "modest", 20)).isEqualTo(20);
    assertThat(meters.get("infergate.quota.rejected").tag("tenant", "greedy").counter().count()).isEqualTo(180);
    assertThat(meters.get("infergate.quota.rejected").tag("tenant", "modest").counter().count()).isZero();
  }

  @Test
  void tenantsWithoutAQuotaShareOneHoweverTheyNameThemselves(Vertx vertx) throws Exception {
    ModelPolicy policy = ModelPolicy.newBuilder().setModel("m").setOtherTenants(quota(0.1, 10))
        .putTenants("paying", quota(0.1, 10)).build();
    int admitted = 0;
    for (int i = 0; i < 30; i++) {
      admitted += admitted(vertx, policy, "made-up-" + i, 1);
    }
    admitted += admitted(vertx, policy, null, 5);
    assertThat(admitted).isEqualTo(10);
    assertThat(admitted(vertx, policy, "paying", 10)).isEqualTo(10);
    assertThat(meters.get("infergate.quota.rejected").tag("tenant", "other").counter().count()).isEqualTo(25);
  }

  @Test
  void tokensComeBackAtTheQuotasRate(Vertx vertx) throws Exception {
    ModelPolicy policy = ModelPolicy.newBuilder().setModel("m").setQuota(quota(50, 1)).build();
    assertThat(admitted(vertx, policy, null, 5)).isEqualTo(1);
    Thread.sleep(100);
    // 50 per second refill a bucket of one within 20 ms, so one more goes through; a burst of one holds no more.
    assertThat(admitted(vertx, policy, null, 5)).isEqualTo(1);
  }

  @Test
  void policiesWithoutAQuotaNeedNone() {
    assertThat(Quotas.appliesTo(ModelPolicy.getDefaultInstance())).isFalse();
    assertThat(Quotas.appliesTo(ModelPolicy.newBuilder().setQuota(quota(1, 0)).build())).isTrue();
    assertThat(Quotas.appliesTo(ModelPolicy.newBuilder().putTenants("t", quota(1, 0)).build())).isTrue();
  }
}
