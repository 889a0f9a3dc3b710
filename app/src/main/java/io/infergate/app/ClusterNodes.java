package io.infergate.app;

import com.hazelcast.core.HazelcastInstance;
import io.infergate.common.cluster.ClusterOptions;
import io.infergate.common.cluster.Clustering;
import io.infergate.common.registry.HazelcastModelRegistry;
import io.infergate.gateway.GatewayOptions;
import io.infergate.worker.WorkerOptions;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/** Starts a gateway or worker process as a member of the cluster, with the registry in Hazelcast. */
final class ClusterNodes {

  private ClusterNodes() {}

  /** A cluster member: its node and its Hazelcast instance. */
  record Member(Node node, HazelcastInstance hazelcast) {}

  /**
   * A process that has joined the cluster and has no node yet: what a worker's probes and
   * metrics listen on while its models load.
   */
  record Joined(Vertx vertx, PrometheusMeterRegistry prometheus, HazelcastInstance hazelcast, String nodeId,
                ClusterOptions cluster) {

    Future<Member> startNode(WorkerOptions worker, GatewayOptions gateway, int eventLoops) {
      // Off the event loop: the registry's replicated maps and listeners are set up across the cluster.
      return vertx.executeBlocking(() -> new HazelcastModelRegistry(hazelcast, nodeId, cluster.secret()))
          .compose(registry -> Node.start(vertx, prometheus, registry, nodeId, worker, gateway, eventLoops, hazelcast))
          .map(node -> new Member(node, hazelcast));
    }
  }

  static Future<Joined> join(ClusterOptions cluster, int eventLoops) {
    PrometheusMeterRegistry prometheus = Node.newMeterRegistry();
    return Clustering.start(cluster, EventLoopOptions.of(eventLoops), prometheus)
        // Vert.x's node id, a member attribute that survives a partition (the member's UUID does not).
        .map(clustered -> new Joined(clustered.vertx(), prometheus, clustered.manager().getHazelcastInstance(),
            clustered.manager().getNodeId(), cluster));
  }

  static Future<Member> start(ClusterOptions cluster, WorkerOptions worker, GatewayOptions gateway, int eventLoops) {
    return join(cluster, eventLoops).compose(joined -> joined.startNode(worker, gateway, eventLoops));
  }
}
