package io.infergate.app;

import io.infergate.common.cluster.ClusterOptions;
import io.infergate.common.config.ConfigException;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine.Option;

/** How a gateway or worker process joins the cluster (Hazelcast), also from INFERGATE_ environment variables. */
final class ClusterFlags {

  @Option(names = "--cluster_name", defaultValue = "${env:INFERGATE_CLUSTER_NAME:-infergate}",
      description = "Cluster name; members of other clusters are ignored. Default: ${DEFAULT-VALUE}")
  String name;

  @Option(names = "--cluster_host", defaultValue = "${env:INFERGATE_CLUSTER_HOST:-127.0.0.1}",
      description = "Address this member binds to and announces to the others. Default: ${DEFAULT-VALUE}")
  String host;

  @Option(names = "--cluster_port", defaultValue = "${env:INFERGATE_CLUSTER_PORT:-5701}",
      description = "Hazelcast port; the next free one is used if it is taken. Default: ${DEFAULT-VALUE}")
  int port;

  @Option(names = "--cluster_members", defaultValue = "${env:INFERGATE_CLUSTER_MEMBERS:-}",
      description = "Comma-separated members to join: host (scanning the Hazelcast ports from 5701) or host:port")
  String members;

  @Option(names = "--cluster_kubernetes_service", defaultValue = "${env:INFERGATE_CLUSTER_KUBERNETES_SERVICE:-}",
      description = "Find the members as the pods of this Kubernetes service instead of a member list")
  String kubernetesService;

  @Option(names = "--cluster_multicast", arity = "0..1", fallbackValue = "true",
      defaultValue = "${env:INFERGATE_CLUSTER_MULTICAST:-false}",
      description = "Find the members by multicast. Default: ${DEFAULT-VALUE}")
  boolean multicast;

  ClusterOptions toOptions() {
    if (port < 1 || port > 65535) {
      throw new ConfigException("--cluster_port must be between 1 and 65535");
    }
    List<String> list = Arrays.stream(members.split(",")).map(String::trim).filter(m -> !m.isEmpty()).toList();
    if (list.isEmpty() && kubernetesService.isEmpty() && !multicast) {
      throw new ConfigException("Tell the member how to find the cluster: --cluster_members, "
          + "--cluster_kubernetes_service or --cluster_multicast");
    }
    return new ClusterOptions(name, host, port, list, kubernetesService, multicast);
  }
}
