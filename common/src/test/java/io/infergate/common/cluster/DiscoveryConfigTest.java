package io.infergate.common.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.KubernetesConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How each discovery mode becomes Hazelcast's join config. */
class DiscoveryConfigTest {

  @Test
  void kubernetesDnsModeLooksUpTheHeadlessServiceOnTheMembersPort() {
    JoinConfig join = join(new ClusterOptions("c", "10.0.0.5", 5701, List.of(), "",
        "infergate-cluster.serving.svc.cluster.local", false, 5710, null, null));
    KubernetesConfig kubernetes = join.getKubernetesConfig();
    assertThat(kubernetes.isEnabled()).isTrue();
    assertThat(kubernetes.getProperty("service-dns")).isEqualTo("infergate-cluster.serving.svc.cluster.local");
    assertThat(kubernetes.getProperty("service-port")).isEqualTo("5701");
    assertThat(kubernetes.getProperty("service-name")).isNull();
    assertThat(join.getTcpIpConfig().isEnabled()).isFalse();
    assertThat(join.getMulticastConfig().isEnabled()).isFalse();
  }

  @Test
  void kubernetesApiModeNamesTheService() {
    JoinConfig join = join(new ClusterOptions("c", "10.0.0.5", 5701, List.of(), "infergate-cluster", "", false, 0,
        null, null));
    assertThat(join.getKubernetesConfig().isEnabled()).isTrue();
    assertThat(join.getKubernetesConfig().getProperty("service-name")).isEqualTo("infergate-cluster");
    assertThat(join.getKubernetesConfig().getProperty("service-dns")).isNull();
  }

  @Test
  void aMemberListIsTcpIpWithoutKubernetes() {
    JoinConfig join = join(new ClusterOptions("c", "127.0.0.1", 5701, List.of("10.0.0.1:5701"), "", "", false, 0,
        null, null));
    assertThat(join.getTcpIpConfig().isEnabled()).isTrue();
    assertThat(join.getTcpIpConfig().getMembers()).containsExactly("10.0.0.1:5701");
    assertThat(join.getKubernetesConfig().isEnabled()).isFalse();
  }

  @Test
  void theEventBusListensOnTheGivenPortAndAnnouncesTheHost() {
    var bus = Clustering.eventBusOptions(new ClusterOptions("c", "10.0.0.5", 5701, List.of(), "", "svc", false, 5710,
        null, null));
    assertThat(bus.getPort()).isEqualTo(5710);
    assertThat(bus.getHost()).isEqualTo("10.0.0.5");
    assertThat(bus.getClusterPublicHost()).isEqualTo("10.0.0.5");
  }

  private static JoinConfig join(ClusterOptions options) {
    return Clustering.hazelcastConfig(options).getAdvancedNetworkConfig().getJoin();
  }
}
