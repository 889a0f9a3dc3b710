package io.infergate.common.registry;

import static org.assertj.core.api.Assertions.assertThat;

import io.infergate.common.ServableId;
import io.infergate.common.status.StatusCode;
import io.infergate.proto.serving.ModelVersionStatus.State;
import io.infergate.proto.serving.SignatureDefMap;
import org.junit.jupiter.api.Test;

/** When the models a gateway routes to let it take traffic. */
class RoutingSnapshotTest {

  final LocalModelRegistry registry = new LocalModelRegistry();

  @Test
  void aModelStillLoadingIsWaitedForButOneThatFailedForGoodIsNot() {
    registry.publish(ServableRecord.available(new ServableId("good", 1), SignatureDefMap.getDefaultInstance())).await();
    registry.publish(ServableRecord.of(new ServableId("broken", 1), State.LOADING)).await();
    assertThat(registry.snapshot().allModelsSettled()).as("broken may still load").isFalse();

    registry.publish(ServableRecord.failed(new ServableId("broken", 1), StatusCode.FAILED_PRECONDITION,
        "Failed to load SavedModel")).await();
    assertThat(registry.snapshot().model("broken").orElseThrow().hasFailed()).isTrue();
    assertThat(registry.snapshot().allModelsSettled()).as("good serves; broken will not by waiting").isTrue();

    registry.publish(ServableRecord.of(new ServableId("broken", 2), State.LOADING)).await();
    assertThat(registry.snapshot().model("broken").orElseThrow().hasFailed()).isFalse();
    assertThat(registry.snapshot().allModelsSettled()).as("a new version of it is loading").isFalse();
  }

  @Test
  void aVersionThatEndedWithoutAnErrorIsNoFailure() {
    registry.publish(ServableRecord.of(new ServableId("m", 1), State.END)).await();
    assertThat(registry.snapshot().model("m").orElseThrow().hasFailed()).isFalse();
    assertThat(registry.snapshot().allModelsSettled()).isFalse();
  }
}
