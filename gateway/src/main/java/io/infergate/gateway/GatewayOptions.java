package io.infergate.gateway;

/**
 * How a gateway listens and answers.
 *
 * @param metricsPath where Prometheus scrapes, or null when metrics are switched off
 */
public record GatewayOptions(
    String host,
    int restPort,
    long restTimeoutMillis,
    long maxRequestBodyBytes,
    String metricsPath,
    String serverVersion) {
}
