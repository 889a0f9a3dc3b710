package io.infergate.gateway.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.infergate.common.ServableId;
import io.infergate.common.registry.ModelView;
import io.infergate.common.registry.RoutingSnapshot;
import io.infergate.common.registry.ServableRecord;
import io.infergate.common.status.StatusCode;
import io.infergate.proto.registry.TrafficPolicy;
import io.infergate.proto.registry.TrafficTarget;
import io.infergate.proto.registry.WeightedTarget;
import io.infergate.proto.serving.ModelVersionStatus.State;
import io.infergate.proto.serving.SignatureDefMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The traffic split and its sticky hashing, on a snapshot built by hand: no registry, no Vert.x. */
class ServableChoiceTest {

  static final TrafficTarget V1 = TrafficTarget.newBuilder().setVersion(1).build();
  static final TrafficTarget CANARY = TrafficTarget.newBuilder().setLabel("canary").build();

  @Test
  void aWeightedSplitSendsEachTargetItsShare() {
    RoutingSnapshot snapshot = snapshot(split(90, 10, ""));
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < 20_000; i++) {
      ServableChoice.Routed routed = ServableChoice.route(snapshot, "m", VersionSelector.LATEST, header -> null);
      counts.merge(routed.variant() + "=" + routed.servable().id().version(), 1, Integer::sum);
    }
    assertThat(counts).containsOnlyKeys("version:1=1", "label:canary=2");
    assertThat(counts.get("label:canary=2")).as("10 % of 20,000, within ±1 %").isBetween(1_800, 2_200);
  }

  @Test
  void aStickyHeaderKeepsAUserOnOneVariantAndSpreadsUsers() {
    RoutingSnapshot snapshot = snapshot(split(50, 50, "x-user"));
    Map<Long, Integer> users = new HashMap<>();
    for (int user = 0; user < 2_000; user++) {
      String id = "user-" + user;
      long first = ServableChoice.route(snapshot, "m", VersionSelector.LATEST, h -> h.equals("x-user") ? id : null)
          .servable().id().version();
      for (int again = 0; again < 3; again++) {
        assertThat(ServableChoice.route(snapshot, "m", VersionSelector.LATEST, h -> h.equals("x-user") ? id : null)
            .servable().id().version()).isEqualTo(first);
      }
      users.merge(first, 1, Integer::sum);
    }
    assertThat(users.get(2L)).as("half of 2,000 users, within ±5 %").isBetween(900, 1_100);
  }

  @Test
  void aRequestNamingAVersionOrLabelIgnoresTheSplit() {
    RoutingSnapshot snapshot = snapshot(split(100, 0, ""));
    ServableChoice.Routed routed = ServableChoice.route(snapshot, "m", new VersionSelector.Label("canary"), h -> null);
    assertThat(routed.servable().id().version()).isEqualTo(2);
    assertThat(routed.variant()).isEqualTo(ServableChoice.DEFAULT_VARIANT);
  }

  @Test
  void aSplitWithNoWeightIsUnavailable() {
    RoutingSnapshot snapshot = snapshot(split(0, 0, ""));
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> ServableChoice.route(snapshot, "m", VersionSelector.LATEST, h -> null))
        .isInstanceOfSatisfying(io.infergate.common.status.ServingException.class,
            e -> assertThat(e.code()).isEqualTo(StatusCode.UNAVAILABLE));
  }

  private static TrafficPolicy split(int toVersion1, int toCanary, String stickyHeader) {
    TrafficPolicy.Builder policy = TrafficPolicy.newBuilder().setStickyHeader(stickyHeader);
    if (toVersion1 > 0 || toCanary > 0) {
      policy.addSplit(WeightedTarget.newBuilder().setTarget(V1).setWeight(toVersion1))
          .addSplit(WeightedTarget.newBuilder().setTarget(CANARY).setWeight(toCanary));
    } else {
      policy.addSplit(WeightedTarget.newBuilder().setTarget(V1).setWeight(0));
    }
    return policy.build();
  }

  private static RoutingSnapshot snapshot(TrafficPolicy policy) {
    TreeMap<Long, ServableRecord> versions = new TreeMap<>();
    for (long version : new long[] {1, 2}) {
      versions.put(version, new ServableRecord(new ServableId("m", version), State.AVAILABLE, StatusCode.OK, "",
          SignatureDefMap.getDefaultInstance(), List.of("worker"), Map.of(), 0, Map.of()));
    }
    return new RoutingSnapshot(Map.of("m", new ModelView("m", versions, Map.of("canary", 2L), policy)));
  }
}
