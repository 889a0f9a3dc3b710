package io.infergate.app;

import io.infergate.common.cluster.ClusterOptions;
import io.infergate.common.cluster.ClusterSecret;
import io.infergate.common.config.ConfigException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
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

  @Option(names = "--cluster_kubernetes_service_dns", defaultValue = "${env:INFERGATE_CLUSTER_KUBERNETES_SERVICE_DNS:-}",
      description = "Find the members as the addresses of this headless Kubernetes service's DNS name "
          + "(e.g. infergate-cluster.serving.svc.cluster.local): no Kubernetes API access needed")
  String kubernetesServiceDns;

  @Option(names = "--cluster_multicast", arity = "0..1", fallbackValue = "true",
      defaultValue = "${env:INFERGATE_CLUSTER_MULTICAST:-false}",
      description = "Find the members by multicast. Default: ${DEFAULT-VALUE}")
  boolean multicast;

  @Option(names = "--cluster_bus_port", defaultValue = "${env:INFERGATE_CLUSTER_BUS_PORT:-0}",
      description = "Port of the event bus between members (requests from gateways to workers); 0 picks a free one. "
          + "Give it where a network policy must name it. Default: ${DEFAULT-VALUE}")
  int busPort;

  @Option(names = "--cluster_secret", defaultValue = "${env:INFERGATE_CLUSTER_SECRET}",
      description = "Secret shared by every member (at least " + ClusterSecret.MIN_LENGTH + " characters, e.g. "
          + "'openssl rand -hex 32'): a process without it cannot join, and registry entries not sealed with it "
          + "are ignored. Give it through the environment, not the command line")
  String secret;

  @Option(names = "--cluster_tls_cert_file", defaultValue = "${env:INFERGATE_CLUSTER_TLS_CERT_FILE}",
      description = "PEM certificate this member presents on the event bus; with --cluster_tls_key_file and "
          + "--cluster_tls_ca_file turns on mutual TLS between members")
  Path tlsCert;

  @Option(names = "--cluster_tls_key_file", defaultValue = "${env:INFERGATE_CLUSTER_TLS_KEY_FILE}",
      description = "PEM key of --cluster_tls_cert_file")
  Path tlsKey;

  @Option(names = "--cluster_tls_ca_file", defaultValue = "${env:INFERGATE_CLUSTER_TLS_CA_FILE}",
      description = "PEM CA certificates that sign every member's bus certificate; no other peer is accepted")
  Path tlsCa;

  ClusterOptions toOptions() {
    if (port < 1 || port > 65535) {
      throw new ConfigException("--cluster_port must be between 1 and 65535");
    }
    List<String> list = Arrays.stream(members.split(",")).map(String::trim).filter(m -> !m.isEmpty()).toList();
    long ways = Stream.of(!list.isEmpty(), !kubernetesService.isEmpty(), !kubernetesServiceDns.isEmpty(), multicast)
        .filter(given -> given).count();
    if (ways != 1) {
      throw new ConfigException("Tell the member one way to find the cluster: --cluster_members, "
          + "--cluster_kubernetes_service, --cluster_kubernetes_service_dns or --cluster_multicast");
    }
    if (busPort < 0 || busPort > 65535) {
      throw new ConfigException("--cluster_bus_port must be between 0 and 65535");
    }
    if (secret != null && !secret.isEmpty() && secret.length() < ClusterSecret.MIN_LENGTH) {
      throw new ConfigException("--cluster_secret needs at least " + ClusterSecret.MIN_LENGTH + " characters");
    }
    return new ClusterOptions(name, host, port, list, kubernetesService, kubernetesServiceDns, multicast, busPort,
        secret == null || secret.isEmpty() ? null : new ClusterSecret(secret), busTls());
  }

  private ClusterOptions.BusTls busTls() {
    if (tlsCert == null && tlsKey == null && tlsCa == null) {
      return null;
    }
    if (tlsCert == null || tlsKey == null || tlsCa == null) {
      throw new ConfigException("Mutual TLS on the event bus needs --cluster_tls_cert_file, --cluster_tls_key_file "
          + "and --cluster_tls_ca_file");
    }
    return new ClusterOptions.BusTls(Pem.certificates(Pem.read(tlsCert), tlsCert), Pem.key(Pem.read(tlsKey)),
        Pem.certificates(Pem.read(tlsCa), tlsCa));
  }
}
