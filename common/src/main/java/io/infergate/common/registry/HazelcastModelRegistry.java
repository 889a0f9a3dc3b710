package io.infergate.common.registry;

import com.hazelcast.cluster.ClusterState;
import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.EntryAdapter;
import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.MapEvent;
import com.hazelcast.replicatedmap.ReplicatedMap;
import io.infergate.common.cluster.ClusterSecret;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's registry in Hazelcast replicated maps: every member holds a full copy, so
 * reads are local, and writes reach the other members within milliseconds. Each member
 * rebuilds its routing snapshot when an entry or the membership changes, and routes only to
 * workers that are members as it sees them: a worker that leaves the cluster is out of routing
 * as soon as Hazelcast removes it, even while its entries cannot be removed yet (a departed
 * member may own their partition), which happens a few seconds later. When a partition heals, a
 * worker publishes its servables again, and every member checks its maps and the membership
 * every second for what came without an event.
 */
public final class HazelcastModelRegistry extends StoredModelRegistry {

  private static final Logger LOG = LoggerFactory.getLogger(HazelcastModelRegistry.class);
  static final String SERVABLES = "infergate-servables";
  static final String MODELS = "infergate-models";
  static final String OVERRIDES = "infergate-overrides";
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
  /**
   * How long a worker is gone before this member removes its entries: routing ignores them at
   * once; the removal only keeps the maps small, and waits out a cluster that is still reshaping.
   */
  private static final long DEPARTED_NANOS = TimeUnit.SECONDS.toNanos(5);

  private final HazelcastInstance hazelcast;
  private final ReplicatedMap<String, byte[]> servables;
  private final ReplicatedMap<String, byte[]> models;
  private final ReplicatedMap<String, byte[]> overrides;
  /** The Vert.x node ids of the cluster's members as this member last saw them. */
  private volatile Set<String> members;
  /** Since when a worker with entries in the maps has not been a member (reconcile thread only). */
  private final Map<String, Long> absentSince = new HashMap<>();

  /**
   * @param worker this member's Vert.x node id, under which it publishes its servables
   * @param secret the cluster secret entries are sealed with, or null for none
   */
  public HazelcastModelRegistry(HazelcastInstance hazelcast, String worker, ClusterSecret secret) {
    super(worker, secret);
    this.hazelcast = hazelcast;
    this.servables = hazelcast.getReplicatedMap(SERVABLES);
    this.models = hazelcast.getReplicatedMap(MODELS);
    this.overrides = hazelcast.getReplicatedMap(OVERRIDES);
    this.members = memberIds();
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
    overrides.addEntryListener(onChange);
    hazelcast.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
        membershipChanged();
      }

      @Override
      public void memberRemoved(MembershipEvent event) {
        membershipChanged();
      }
    });
    ScheduledExecutorService reconcile = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "infergate-registry-reconcile");
      thread.setDaemon(true);
      return thread;
    });
    reconcile.scheduleWithFixedDelay(() -> {
      if (hazelcast.getLifecycleService().isRunning()) {
        reconcile();
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
  protected boolean isLive(String worker) {
    return members.contains(worker);
  }

  private void membershipChanged() {
    members = memberIds();
    rebuild();
  }

  /**
   * Every second: catches membership and map changes that came without an event, and removes the
   * entries of workers gone for a while (several members may do it; removing twice is harmless).
   */
  private void reconcile() {
    Set<String> now = memberIds();
    if (!now.equals(members)) {
      membershipChanged();
    } else {
      rebuildIfChanged();
    }
    long nanos = System.nanoTime();
    Set<String> inMaps = workersInMaps();
    absentSince.keySet().retainAll(inMaps);
    Set<String> departed = new HashSet<>();
    for (String worker : inMaps) {
      if (now.contains(worker)) {
        absentSince.remove(worker);
      } else if (nanos - absentSince.computeIfAbsent(worker, w -> nanos) >= DEPARTED_NANOS) {
        departed.add(worker);
      }
    }
    if (!departed.isEmpty()) {
      try {
        removeServablesOf(departed);
      } catch (RuntimeException e) {
        LOG.debug("Could not yet remove the entries of departed workers {}; trying again", departed, e);
      }
    }
  }

  /** Each member's Vert.x node id (its UUID where it has none: not a Vert.x member). */
  private Set<String> memberIds() {
    Set<String> ids = new HashSet<>();
    for (Member member : hazelcast.getCluster().getMembers()) {
      String nodeId = member.getAttribute(NODE_ID_ATTRIBUTE);
      ids.add(nodeId != null ? nodeId : member.getUuid().toString());
    }
    return Set.copyOf(ids);
  }

  @Override
  protected Map<String, byte[]> servables() {
    return servables;
  }

  @Override
  protected Map<String, byte[]> models() {
    return models;
  }

  @Override
  protected Map<String, byte[]> overrides() {
    return overrides;
  }

  /** Connected while this member runs in an active cluster. */
  @Override
  public boolean isConnected() {
    return hazelcast.getLifecycleService().isRunning()
        && hazelcast.getCluster().getClusterState() == ClusterState.ACTIVE;
  }
}
