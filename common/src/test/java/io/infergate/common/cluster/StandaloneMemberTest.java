package io.infergate.common.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import org.junit.jupiter.api.Test;

/** The single-process server's embedded member (online features) never meets a cluster by accident. */
class StandaloneMemberTest {

  @Test
  void neitherAnotherEmbeddedMemberNorAMemberLookingForPeersOnLoopbackJoinsIt() {
    HazelcastInstance first = Clustering.standaloneMember();
    HazelcastInstance second = Clustering.standaloneMember();
    Config stranger = new Config();
    stranger.setProperty("hazelcast.logging.type", "slf4j");
    stranger.setProperty("hazelcast.phone.home.enabled", "false");
    stranger.setProperty("hazelcast.wait.seconds.before.join", "1");
    JoinConfig join = stranger.getNetworkConfig().getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).addMember("127.0.0.1");
    HazelcastInstance looking = Hazelcast.newHazelcastInstance(stranger);
    try {
      assertThat(first.getConfig().getClusterName()).isNotEqualTo(second.getConfig().getClusterName())
          .startsWith("infergate-embedded-");
      for (HazelcastInstance member : new HazelcastInstance[] {first, second, looking}) {
        assertThat(member.getCluster().getMembers()).as(member.getName()).hasSize(1);
      }
    } finally {
      looking.shutdown();
      second.shutdown();
      first.shutdown();
    }
  }
}
