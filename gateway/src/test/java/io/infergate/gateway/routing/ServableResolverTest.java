package io.infergate.gateway.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.infergate.common.ServableId;
import io.infergate.common.registry.LocalModelRegistry;
import io.infergate.common.registry.ServableRecord;
import io.infergate.common.status.StatusCode;
import io.infergate.proto.serving.ModelVersionStatus.State;
import io.infergate.proto.serving.SignatureDefMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ServableResolverTest {

  final LocalModelRegistry registry = new LocalModelRegistry();

  @BeforeEach
  void models() {
    registry.publish(ServableRecord.available(new ServableId("m", 1), SignatureDefMap.getDefaultInstance())).await();
    registry.publish(ServableRecord.available(new ServableId("m", 2), SignatureDefMap.getDefaultInstance())).await();
    registry.publish(ServableRecord.of(new ServableId("m", 3), State.LOADING)).await();
    registry.setLabels("m", Map.of("stable", 1L, "next", 3L)).await();
  }

  @Test
  void latestIsTheHighestAvailableVersion() {
    assertThat(resolve(VersionSelector.LATEST)).isEqualTo(2);
  }

  @Test
  void resolvesVersionsAndLabels() {
    assertThat(resolve(VersionSelector.of("1", null))).isEqualTo(1);
    assertThat(resolve(VersionSelector.of(null, "stable"))).isEqualTo(1);
  }

  @Test
  void aVersionThatIsNotAvailableIsNotFound() {
    assertThatThrownBy(() -> resolve(VersionSelector.of("3", null)))
        .hasMessage("Servable not found for request: Specific(m, 3)");
    assertThatThrownBy(() -> resolve(VersionSelector.of(null, "next")))
        .hasMessage("Servable not found for request: Label(m, next)");
    assertThatThrownBy(() -> resolve(VersionSelector.of(null, "nope")))
        .hasMessage("Unrecognized servable version label: nope");
    assertThatThrownBy(() -> ServableResolver.resolve(registry.snapshot(), "other", VersionSelector.LATEST))
        .hasMessage("Servable not found for request: Latest(other)")
        .extracting("code").isEqualTo(StatusCode.NOT_FOUND);
  }

  @Test
  void aNonNumericVersionIsInvalid() {
    assertThatThrownBy(() -> VersionSelector.of("abc", null)).extracting("code").isEqualTo(StatusCode.INVALID_ARGUMENT);
  }

  private long resolve(VersionSelector selector) {
    return ServableResolver.resolve(registry.snapshot(), "m", selector).id().version();
  }
}
