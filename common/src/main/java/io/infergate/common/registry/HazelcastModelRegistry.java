package io.infergate.common.registry;

import com.hazelcast.cluster.ClusterState;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.EntryAdapter;
import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.MapEvent;
import com.hazelcast.replicatedmap.ReplicatedMap;
import io.infergate.common.cluster.ClusterSecret;
import java.util.Map;

/**
 * The cluster's registry in Hazelcast replicated maps: every member holds a full copy, so
 * reads are local, and writes reach the other members within milliseconds. Each member
 * rebuilds its routing snapshot when an entry changes, and forgets the servables of a worker
 * that leaves the cluster, so routing stops using it within seconds.
 */
public final class HazelcastModelRegistry extends StoredModelRegistry {

  static final String SERVABLES = "infergate-servables";
  static final String MODELS = "infergate-models";

  private final HazelcastInstance hazelcast;
  private final ReplicatedMap<String, byte[]> servables;
  private final ReplicatedMap<String, byte[]> models;

  /**
   * @param worker this member's node id, under which it publishes its servables
   * @param secret the cluster secret entries are sealed with, or null for none
   */
  public HazelcastModelRegistry(HazelcastInstance hazelcast, String worker, ClusterSecret secret) {
    super(worker, secret);
    this.hazelcast = hazelcast;
    this.servables = hazelcast.getReplicatedMap(SERVABLES);
    this.models = hazelcast.getReplicatedMap(MODELS);
    EntryAdapter<String, byte[]> onChange = new EntryAdapter<>() {
      @Override
      public void onEntryEvent(EntryEvent<String, byte[]> event) {
        rebuild();
      }

      @Override
      public void onMapEvent(MapEvent event) {
        rebuild();
      }
    };
    // The listeners live as long as the Hazelcast instance, which the cluster manager owns.
    servables.addEntryListener(onChange);
    models.addEntryListener(onChange);
    hazelcast.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
        // a new worker announces its own servables
      }

      @Override
      public void memberRemoved(MembershipEvent event) {
        forgetWorker(event.getMember().getUuid().toString());
      }
    });
    rebuild();
  }

  @Override
  protected Map<String, byte[]> servables() {
    return servables;
  }

  @Override
  protected Map<String, byte[]> models() {
    return models;
  }

  /** Connected while this member runs in an active cluster. */
  @Override
  public boolean isConnected() {
    return hazelcast.getLifecycleService().isRunning()
        && hazelcast.getCluster().getClusterState() == ClusterState.ACTIVE;
  }
}
