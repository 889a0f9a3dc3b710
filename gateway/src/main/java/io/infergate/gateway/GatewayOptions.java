package io.infergate.gateway;

import io.infergate.gateway.policy.PolicyOptions;
import io.infergate.gateway.admission.Admission;
import io.infergate.gateway.readiness.PathWarmup;
import io.infergate.proto.features.FeatureConfig;

/**
 * How a gateway listens and answers.
 *
 * @param tls TLS for both listeners, or null for plaintext
 * @param metricsPath where Prometheus scrapes, or null when metrics are switched off
 * @param adminToken bearer token of the admin API, or null to switch it off
 * @param features which model inputs come from the feature store, or null for none
 * @param shutdownDrainMillis how long the gateways keep serving, reported not ready, before they close
 * @param policy where the serving policy comes from, and where shared answers go
 * @param warmup how the request path is warmed up before the process reports ready
 */
public record GatewayOptions(
    Listen listen,
    Limits limits,
    Admission.Limits admission,
    TlsOptions tls,
    String metricsPath,
    String serverVersion,
    String adminToken,
    FeatureConfig features,
    long shutdownDrainMillis,
    PolicyOptions policy,
    PathWarmup.Options warmup) {

  /**
   * Where the gateway listens.
   *
   * @param grpcPort the gRPC port, 0 for none
   */
  public record Listen(String restHost, int restPort, String grpcHost, int grpcPort) {}

  /**
   * What one request and one client may take.
   *
   * @param requestTimeoutMillis deadline of a REST request from its arrival, and of a gRPC call whose
   *     client set none
   * @param requestBodyTimeoutMillis time from a REST request's arrival to the last byte of its body
   * @param idleTimeoutSeconds a connection with no traffic for this long is closed; 0 = never
   */
  public record Limits(long requestTimeoutMillis, long maxRequestBodyBytes, long grpcMaxMessageBytes,
                       long requestBodyTimeoutMillis, int idleTimeoutSeconds) {}
}
