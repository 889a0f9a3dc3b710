package io.infergate.gateway;

/**
 * How a gateway listens and answers.
 *
 * @param grpcPort the gRPC port, 0 for none
 * @param restTimeoutMillis deadline of a REST request, and of a gRPC call whose client set none
 * @param metricsPath where Prometheus scrapes, or null when metrics are switched off
 * @param adminToken bearer token of the admin API, or null to switch it off
 * @param features which model inputs come from the feature store, or null for none
 * @param shutdownDrainMillis how long the gateways keep serving, reported not ready, before they close
 */
public record GatewayOptions(
    String host,
    int restPort,
    int grpcPort,
    long restTimeoutMillis,
    long maxRequestBodyBytes,
    long grpcMaxMessageBytes,
    String metricsPath,
    String serverVersion,
    String adminToken,
    io.infergate.proto.features.FeatureConfig features,
    long shutdownDrainMillis) {
}
