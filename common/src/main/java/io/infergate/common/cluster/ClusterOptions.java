package io.infergate.common.cluster;

import java.util.List;

/**
 * How a gateway or worker joins the Infergate cluster.
 *
 * @param name cluster name; members of other names are ignored
 * @param host address this member binds to and announces (Hazelcast and the event bus)
 * @param port Hazelcast port (the next free one is taken if busy)
 * @param members TCP-IP member list ({@code host[:port]}), the default discovery
 * @param kubernetesService Kubernetes service whose pods are the members, found through the
 *     Kubernetes API (instead of a list); needs RBAC to read endpoints
 * @param kubernetesServiceDns DNS name of a headless Kubernetes service whose addresses are the
 *     members (DNS lookup mode: no API access, no RBAC)
 * @param multicast discover members by multicast (off by default)
 * @param busPort the event bus's port; 0 picks a free one
 * @param secret the cluster secret: without it a process cannot join, and registry entries it
 *     writes are ignored; null for none
 * @param busTls mutual TLS for the event bus, or null for plaintext
 */
public record ClusterOptions(String name, String host, int port, List<String> members,
                             String kubernetesService, String kubernetesServiceDns, boolean multicast, int busPort, ClusterSecret secret,
                             BusTls busTls) {

  public ClusterOptions {
    members = List.copyOf(members);
  }

  /**
   * The event bus's TLS: every member presents {@code certPem} and accepts only peers whose
   * certificates {@code caPem} signed, in both directions.
   */
  public record BusTls(String certPem, String keyPem, String caPem) {}
}
