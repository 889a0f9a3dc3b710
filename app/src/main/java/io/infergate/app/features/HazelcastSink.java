package io.infergate.app.features;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.infergate.gateway.features.HazelcastFeatureStore;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/** Features into the cluster's Hazelcast map, as a Hazelcast client or through a member of this process. */
public final class HazelcastSink implements FeatureSink {

  private final HazelcastInstance hazelcast;
  private final IMap<String, Object> map;
  private final String target;
  private final boolean ownsClient;

  private HazelcastSink(HazelcastInstance hazelcast, String target, boolean ownsClient) {
    this.hazelcast = hazelcast;
    this.map = hazelcast.getMap(HazelcastFeatureStore.MAP);
    this.target = target;
    this.ownsClient = ownsClient;
  }

  /** Connects as a client to a member at {@code hostPort} of cluster {@code clusterName}. */
  public static HazelcastSink connect(String hostPort, String clusterName) {
    ClientConfig config = new ClientConfig();
    config.setClusterName(clusterName);
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.getNetworkConfig().addAddress(hostPort.split(","));
    config.getConnectionStrategyConfig().getConnectionRetryConfig().setClusterConnectTimeoutMillis(10_000);
    return new HazelcastSink(HazelcastClient.newHazelcastClient(config), "hazelcast://" + hostPort, true);
  }

  /** Writes through a member (or client) this process already has; closing leaves it running. */
  public static HazelcastSink through(HazelcastInstance hazelcast) {
    return new HazelcastSink(hazelcast, "hazelcast map " + HazelcastFeatureStore.MAP, false);
  }

  @Override
  public CompletionStage<?> putHash(String key, Map<String, String> values) {
    return map.setAsync(key, new HashMap<>(values));
  }

  @Override
  public CompletionStage<?> putVector(String key, byte[] vector) {
    return map.setAsync(key, vector);
  }

  @Override
  public String target() {
    return target;
  }

  @Override
  public void close() {
    if (ownsClient) {
      hazelcast.shutdown();
    }
  }
}
