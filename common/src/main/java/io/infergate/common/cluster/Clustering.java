package io.infergate.common.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import io.infergate.common.config.ConfigException;
import io.infergate.common.metrics.VertxMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

/** Starts a clustered Vert.x whose cluster manager is Hazelcast, configured from {@link ClusterOptions}. */
public final class Clustering {

  private Clustering() {}

  /** @param metrics where Vert.x's and the JVM's metrics go */
  public static Future<ClusteredVertx> start(ClusterOptions options, VertxOptions vertxOptions, MeterRegistry metrics) {
    HazelcastClusterManager manager = new HazelcastClusterManager(hazelcastConfig(options));
    vertxOptions.setEventBusOptions(new EventBusOptions().setHost(options.host()).setClusterPublicHost(options.host()));
    return VertxMetrics.builder(vertxOptions, metrics).withClusterManager(manager).buildClustered()
        .map(vertx -> new ClusteredVertx(vertx, manager));
  }

  /** A clustered Vert.x and its cluster manager (for the node id and the Hazelcast instance). */
  public record ClusteredVertx(Vertx vertx, HazelcastClusterManager manager) {}

  /**
   * A Hazelcast member of its own (no discovery, loopback only) for a single-process server's
   * embedded data such as online features; clients (the feature loader) reach it on its port.
   * Blocks while it starts.
   */
  public static HazelcastInstance standaloneMember(String clusterName, int port) {
    Config config = baseConfig(clusterName);
    NetworkConfig network = config.getNetworkConfig();
    network.setPort(port).setPortAutoIncrement(true);
    network.getInterfaces().setEnabled(true).addInterface("127.0.0.1");
    JoinConfig join = network.getJoin();
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
    return config;
  }

  static Config hazelcastConfig(ClusterOptions options) {
    Config config = baseConfig(options.name());
    config.setProperty("hazelcast.wait.seconds.before.join", "1");
    // A member that stops answering (killed, hung, cut off) leaves the cluster after 5 s of silence.
    config.setProperty("hazelcast.max.no.heartbeat.seconds", "5");
    config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    NetworkConfig network = config.getNetworkConfig();
    network.setPort(options.port()).setPortAutoIncrement(true);
    network.getInterfaces().setEnabled(true).addInterface(options.host());
    JoinConfig join = network.getJoin();
    join.getAutoDetectionConfig().setEnabled(false);
    join.getMulticastConfig().setEnabled(options.multicast());
    if (options.kubernetesService() != null && !options.kubernetesService().isEmpty()) {
      join.getKubernetesConfig().setEnabled(true).setProperty("service-name", options.kubernetesService());
    } else if (!options.multicast()) {
      if (options.members().isEmpty()) {
        throw new ConfigException("Give cluster members (--cluster_members), a Kubernetes service, or multicast");
      }
      join.getTcpIpConfig().setEnabled(true).setMembers(options.members());
    }
    return config;
  }
}
