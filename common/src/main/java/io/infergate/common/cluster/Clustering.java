package io.infergate.common.cluster;

import com.hazelcast.config.AdvancedNetworkConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.JavaSerializationFilterConfig;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.ServerSocketEndpointConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import io.infergate.common.config.ConfigException;
import io.infergate.common.metrics.VertxMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.UUID;

/**
 * Starts a clustered Vert.x whose cluster manager is Hazelcast, configured from {@link ClusterOptions}.
 * Every member is closed to what the cluster does not need: it listens on the cluster interface
 * only, takes no Hazelcast client connections (only members: features are loaded through a
 * gateway's admin API), deserializes no Java-serialized objects a peer might plant, and with a
 * cluster secret joins only a cluster whose name derives from it.
 */
public final class Clustering {

  private Clustering() {}

  /** @param metrics where Vert.x's and the JVM's metrics go */
  public static Future<ClusteredVertx> start(ClusterOptions options, VertxOptions vertxOptions, MeterRegistry metrics) {
    HazelcastClusterManager manager = new HazelcastClusterManager(hazelcastConfig(options));
    vertxOptions.setEventBusOptions(eventBusOptions(options));
    return VertxMetrics.builder(vertxOptions, metrics).withClusterManager(manager).buildClustered()
        .map(vertx -> new ClusteredVertx(vertx, manager));
  }

  /** A clustered Vert.x and its cluster manager (for the node id and the Hazelcast instance). */
  public record ClusteredVertx(Vertx vertx, HazelcastClusterManager manager) {}

  /**
   * A Hazelcast member of its own for a single-process server's embedded data such as online
   * features: loopback only, no discovery, and a cluster name nobody else knows, so no other
   * process can join it. Blocks while it starts.
   */
  public static HazelcastInstance standaloneMember() {
    Config config = baseConfig("infergate-embedded-" + UUID.randomUUID());
    JoinConfig join = memberEndpointOnly(config, "127.0.0.1", 5701);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getMulticastConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(false);
    return Hazelcast.newHazelcastInstance(config);
  }

  private static Config baseConfig(String clusterName) {
    Config config = new Config();
    config.setClusterName(clusterName);
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.socket.bind.any", "false");
    // Infergate stores protobuf bytes and Hazelcast's own types, and Hazelcast sends some of its
    // own (exceptions) with Java serialization: a Java-serialized object of any other class can
    // only come from someone else, and deserializing it is how such attacks run code. Hazelcast's
    // default filter allows its own and the JDK's classes and refuses known gadgets.
    config.getSerializationConfig().setJavaSerializationFilterConfig(new JavaSerializationFilterConfig());
    return config;
  }

  /**
   * One server socket, for members: with the advanced network on and no client endpoint,
   * Hazelcast clients cannot connect at all.
   */
  private static JoinConfig memberEndpointOnly(Config config, String host, int port) {
    AdvancedNetworkConfig network = config.getAdvancedNetworkConfig().setEnabled(true);
    ServerSocketEndpointConfig member = new ServerSocketEndpointConfig();
    member.setPort(port).setPortAutoIncrement(true);
    member.getInterfaces().setEnabled(true).addInterface(host);
    network.setMemberEndpointConfig(member);
    return network.getJoin();
  }

  static Config hazelcastConfig(ClusterOptions options) {
    Config config = baseConfig(options.secret() == null ? options.name() : options.secret().clusterName(options.name()));
    // Hazelcast waits 5 s for members starting together to find each other. 0 would save half a
    // second of every start, but members started at once (a new deployment) then formed clusters
    // of their own until they merged: 1 s keeps them together.
    config.setProperty("hazelcast.wait.seconds.before.join", "1");
    // A member that stops answering (killed, hung, cut off) leaves the cluster after 5 s of silence.
    config.setProperty("hazelcast.max.no.heartbeat.seconds", "5");
    config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    // After a partition heals, the two halves look for each other every 10 s (Hazelcast: 5 min, then 2).
    config.setProperty("hazelcast.merge.first.run.delay.seconds", "10");
    config.setProperty("hazelcast.merge.next.run.delay.seconds", "10");
    JoinConfig join = memberEndpointOnly(config, options.host(), options.port());
    join.getAutoDetectionConfig().setEnabled(false);
    join.getMulticastConfig().setEnabled(options.multicast());
    if (!isEmpty(options.kubernetesService())) {
      join.getKubernetesConfig().setEnabled(true).setProperty("service-name", options.kubernetesService());
    } else if (!isEmpty(options.kubernetesServiceDns())) {
      // Every address of the headless service is a member on this member's own port.
      join.getKubernetesConfig().setEnabled(true).setProperty("service-dns", options.kubernetesServiceDns())
          .setProperty("service-port", Integer.toString(options.port()));
    } else if (!options.multicast()) {
      if (options.members().isEmpty()) {
        throw new ConfigException("Give cluster members (--cluster_members), a Kubernetes service, or multicast");
      }
      join.getTcpIpConfig().setEnabled(true).setMembers(options.members());
    }
    return config;
  }

  private static boolean isEmpty(String value) {
    return value == null || value.isEmpty();
  }

  /** The bus between members: on the cluster interface and port, with mutual TLS when configured. */
  static EventBusOptions eventBusOptions(ClusterOptions options) {
    EventBusOptions bus = new EventBusOptions().setHost(options.host()).setClusterPublicHost(options.host())
        .setPort(options.busPort());
    ClusterOptions.BusTls tls = options.busTls();
    if (tls != null) {
      bus.setSsl(true)
          .setKeyCertOptions(new PemKeyCertOptions().setCertValue(Buffer.buffer(tls.certPem()))
              .setKeyValue(Buffer.buffer(tls.keyPem())))
          .setTrustOptions(new PemTrustOptions().addCertValue(Buffer.buffer(tls.caPem())))
          .setClientAuth(ClientAuth.REQUIRED);
    }
    return bus;
  }
}
