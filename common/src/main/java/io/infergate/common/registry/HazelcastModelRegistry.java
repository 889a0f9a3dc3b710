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
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The cluster's registry in Hazelcast replicated maps: every member holds a full copy, so
 * reads are local, and writes reach the other members within milliseconds. Each member
 * rebuilds its routing snapshot when an entry changes, and forgets the servables of a worker
 * that leaves the cluster, so routing stops using it within seconds. When a partition heals, a
 * worker publishes its servables again, and every member checks its maps every second for what
 * came without an event.
 */
public final class HazelcastModelRegistry extends StoredModelRegistry {

  static final String SERVABLES = "infergate-servables";
  static final String MODELS = "infergate-models";
  /**
   * The member attribute in which Vert.x keeps its node id, which a worker's servables are
   * published under: unlike the member's UUID, it stays the same when a partition heals and
   * Hazelcast merges the member back under a new UUID.
   */
  static final String NODE_ID_ATTRIBUTE = "__vertx.nodeId";

  private static final long RECONCILE_MILLIS = 1_000;
  /** How long a merge may take, and how long after it the maps may still be filling. */
  private static final long MERGE_MILLIS = 30_000;
  private static final long REFILL_MILLIS = 5_000;

  private final HazelcastInstance hazelcast;
  private final ReplicatedMap<String, byte[]> servables;
  private final ReplicatedMap<String, byte[]> models;

  /**
   * @param worker this member's Vert.x node id, under which it publishes its servables
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
        String nodeId = event.getMember().getAttribute(NODE_ID_ATTRIBUTE);
        forgetWorker(nodeId != null ? nodeId : event.getMember().getUuid().toString());
      }
    });
    ScheduledExecutorService reconcile = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "infergate-registry-reconcile");
      thread.setDaemon(true);
      return thread;
    });
    reconcile.scheduleWithFixedDelay(() -> {
      if (hazelcast.getLifecycleService().isRunning()) {
        rebuildIfChanged();
      }
    }, RECONCILE_MILLIS, RECONCILE_MILLIS, TimeUnit.MILLISECONDS);
    hazelcast.getLifecycleService().addLifecycleListener(event -> {
      switch (event.getState()) {
        case MERGING -> keepModelsFor(MERGE_MILLIS);
        case MERGED -> {
          keepModelsFor(REFILL_MILLIS);
          republishOwn();
        }
        case MERGE_FAILED -> keepModelsFor(0);
        case SHUTDOWN -> reconcile.shutdownNow();
        default -> { }
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
