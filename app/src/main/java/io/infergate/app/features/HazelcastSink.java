package io.infergate.app.features;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.infergate.gateway.features.HazelcastFeatureStore;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/** Features into the Hazelcast map of a member of this process (the demo's embedded member); closing leaves it running. */
public final class HazelcastSink implements FeatureSink {

  private final IMap<String, Object> map;

  public HazelcastSink(HazelcastInstance hazelcast) {
    this.map = hazelcast.getMap(HazelcastFeatureStore.MAP);
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
    return "hazelcast map " + HazelcastFeatureStore.MAP;
  }

  @Override
  public void close() {
    // The member belongs to the process.
  }
}
