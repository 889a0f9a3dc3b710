package io.infergate.common.cluster;

import java.util.List;

/**
 * How a gateway or worker joins the Infergate cluster.
 *
 * @param name cluster name; members of other names are ignored
 * @param host address this member binds to and announces (Hazelcast and the event bus)
 * @param port Hazelcast port (the next free one is taken if busy)
 * @param members TCP-IP member list ({@code host[:port]}), the default discovery
 * @param kubernetesService Kubernetes service whose pods are the members (instead of a list)
 * @param multicast discover members by multicast (off by default)
 */
public record ClusterOptions(String name, String host, int port, List<String> members,
                             String kubernetesService, boolean multicast) {

  public ClusterOptions {
    members = List.copyOf(members);
  }
}
