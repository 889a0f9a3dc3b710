package io.infergate.common.registry;

import static org.assertj.core.api.Assertions.assertThat;

import io.infergate.common.ServableId;
import io.infergate.proto.registry.TrafficPolicy;
import io.infergate.proto.registry.TrafficTarget;
import io.infergate.proto.registry.WeightedTarget;
import io.infergate.proto.serving.SignatureDefMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** An operator's overrides outlive what workers publish: config applies and a worker's restart. */
class ModelOverridesTest {

  final LocalModelRegistry registry = new LocalModelRegistry();

  @Test
  void anOperatorsLabelsWinOverTheConfigsAndSurviveItsNextApply() {
    serve(1, 2);
    registry.setLabels("m", Map.of("stable", 1L, "canary", 2L)).await();
    registry.updateOverrides("m", o -> o.toBuilder().putLabels("stable", 2L)
        .putLabels("canary", StoredModelRegistry.REMOVED_LABEL).putLabels("beta", 1L).build()).await();
    assertThat(labels()).isEqualTo(Map.of("stable", 2L, "beta", 1L));

    registry.setLabels("m", Map.of("stable", 1L, "canary", 2L)).await(); // a worker applies its config again
    assertThat(labels()).isEqualTo(Map.of("stable", 2L, "beta", 1L));
  }

  @Test
  void pinsLabelsAndTrafficOutliveTheModelsLastWorker() {
    serve(1, 2);
    TrafficPolicy split = TrafficPolicy.newBuilder().addSplit(WeightedTarget.newBuilder()
        .setTarget(TrafficTarget.newBuilder().setVersion(1)).setWeight(1)).build();
    registry.updateOverrides("m", o -> o.toBuilder().putPins(1L, true).putLabels("stable", 1L).setTraffic(split).build()).await();

    registry.removeModel("m").await(); // the only worker stops...
    assertThat(registry.snapshot().model("m")).as("a model no worker serves is not routed").isEmpty();
    assertThat(registry.snapshot().pins("m")).isEqualTo(Map.of(1L, true));

    serve(1, 2); // ...and starts again
    assertThat(labels()).isEqualTo(Map.of("stable", 1L));
    assertThat(registry.snapshot().model("m").orElseThrow().traffic()).isEqualTo(split);
    assertThat(registry.snapshot().pins("m")).isEqualTo(Map.of(1L, true));
  }

  private void serve(long... versions) {
    for (long version : versions) {
      registry.publish(ServableRecord.available(new ServableId("m", version), SignatureDefMap.getDefaultInstance())).await();
    }
  }

  private Map<String, Long> labels() {
    return registry.snapshot().model("m").orElseThrow().labels();
  }
}
