package io.infergate.gateway.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.infergate.common.Priority;
import io.infergate.common.config.ConfigException;
import io.infergate.common.config.TextProtoFiles;
import io.infergate.common.registry.LocalModelRegistry;
import io.infergate.proto.policy.ModelPolicy;
import io.infergate.proto.policy.ServingPolicy;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class ServingPoliciesTest {

  static ServingPolicy parse(String text) {
    return TextProtoFiles.parse(text, ServingPolicy.getDefaultInstance(), "test");
  }

  @Test
  void theAdminsPolicyWinsOverTheFilesAndModelsWithoutOneHaveNone() {
    LocalModelRegistry registry = new LocalModelRegistry();
    ServingPolicies policies = new ServingPolicies(registry);
    policies.useFile(ServingPolicies.validated(parse("""
        tenant_header: "X-Api-Key"
        models { model: "ctr" default_priority: LOW quota { requests_per_second: 100 } }
        """)));
    assertThat(policies.tenantHeader()).isEqualTo("x-api-key");
    assertThat(ServingPolicies.defaultPriority(policies.forModel("ctr"))).isEqualTo(Priority.LOW);
    assertThat(policies.sourceOf("ctr")).isEqualTo("file");
    assertThat(policies.forModel("other")).isEqualTo(ModelPolicy.getDefaultInstance());
    assertThat(ServingPolicies.defaultPriority(policies.forModel("other"))).isEqualTo(Priority.NORMAL);

    registry.updateOverrides("ctr", ServingPolicies.setting(ModelPolicy.newBuilder().setModel("ctr")
        .setDefaultPriorityValue(1).build())).await();
    assertThat(ServingPolicies.defaultPriority(policies.forModel("ctr"))).isEqualTo(Priority.HIGH);
    assertThat(policies.sourceOf("ctr")).isEqualTo("admin");
    registry.updateOverrides("ctr", ServingPolicies.clearing()).await();
    assertThat(policies.sourceOf("ctr")).isEqualTo("file");
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "models { quota { requests_per_second: 1 } }",
      "models { model: \"m\" } models { model: \"m\" }",
      "models { model: \"m\" quota { requests_per_second: -1 } }",
      "models { model: \"m\" quota { requests_per_second: inf } }",
      "models { model: \"m\" quota { requests_per_second: nan } }",
      "models { model: \"m\" quota { burst: 10 } }",
      "models { model: \"m\" other_tenants { requests_per_second: 1 burst: -1 } }",
      "models { model: \"m\" tenants { key: \"\" value { requests_per_second: 1 } } }",
      "models { model: \"m\" cache { ttl_millis: -1 } }",
      "models { model: \"m\" default_priority: 7 }",
      "tenant_header: \"x tenant\""})
  void aPolicyThatMakesNoSenseIsRefusedWithTheReason(String text) {
    assertThatThrownBy(() -> ServingPolicies.validated(parse(text))).isInstanceOf(ConfigException.class)
        .hasMessageNotContaining("null");
  }
}
