package io.infergate.app;

import com.hazelcast.core.HazelcastInstance;
import io.infergate.common.cluster.ClusterOptions;
import io.infergate.common.cluster.Clustering;
import io.infergate.common.registry.HazelcastModelRegistry;
import io.infergate.gateway.GatewayOptions;
import io.infergate.worker.WorkerOptions;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;

/** Starts a gateway or worker process as a member of the cluster, with the registry in Hazelcast. */
final class ClusterNodes {

  private ClusterNodes() {}

  /** A cluster member: its node and its Hazelcast instance. */
  record Member(Node node, HazelcastInstance hazelcast) {}

  static Future<Member> start(ClusterOptions cluster, WorkerOptions worker, GatewayOptions gateway, int eventLoops) {
    PrometheusMeterRegistry prometheus = Node.newMeterRegistry();
    return Clustering.start(cluster, EventLoopOptions.of(eventLoops), prometheus)
        .compose(clustered -> {
          HazelcastInstance hazelcast = clustered.manager().getHazelcastInstance();
          // Vert.x's node id, a member attribute that survives a partition (the member's UUID does not).
          String nodeId = clustered.manager().getNodeId();
          return Node.start(clustered.vertx(), prometheus, new HazelcastModelRegistry(hazelcast, nodeId, cluster.secret()), nodeId,
                  worker, gateway, eventLoops, hazelcast)
              .map(node -> new Member(node, hazelcast));
        });
  }
}
