package io.infergate.app;

import io.infergate.common.cluster.ClusterOptions;
import io.infergate.common.cluster.Clustering;
import io.infergate.common.registry.HazelcastModelRegistry;
import io.infergate.gateway.GatewayOptions;
import io.infergate.worker.WorkerOptions;
import io.vertx.core.Future;
import io.vertx.core.VertxOptions;

/** Starts a gateway or worker process as a member of the cluster, with the registry in Hazelcast. */
final class ClusterNodes {

  private ClusterNodes() {}

  static Future<Node> start(ClusterOptions cluster, WorkerOptions worker, GatewayOptions gateway, int eventLoops) {
    return Clustering.start(cluster, new VertxOptions().setEventLoopPoolSize(eventLoops))
        .compose(clustered -> {
          String nodeId = clustered.manager().getNodeId();
          HazelcastModelRegistry registry =
              new HazelcastModelRegistry(clustered.manager().getHazelcastInstance(), nodeId);
          return Node.start(clustered.vertx(), registry, nodeId, worker, gateway, eventLoops);
        });
  }
}
