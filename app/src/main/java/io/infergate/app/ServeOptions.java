package io.infergate.app;

import io.infergate.gateway.GatewayOptions;
import io.infergate.proto.serving.BatchingParameters;
import io.infergate.proto.serving.ModelServerConfig;
import io.infergate.proto.serving.MonitoringConfig;
import io.infergate.worker.WorkerOptions;
import io.infergate.worker.lifecycle.LoaderOptions;
import java.nio.file.Path;

/** The validated configuration of a single-process server (gateway and worker in one JVM). */
record ServeOptions(
    int grpcPort,
    int restPort,
    long restTimeoutMillis,
    long maxRequestBodyBytes,
    long grpcMaxMessageBytes,
    int eventLoops,
    int inferenceThreads,
    int loadThreads,
    ModelServerConfig modelConfig,
    Path modelConfigFile,
    int configPollSeconds,
    int fileSystemPollSeconds,
    MonitoringConfig monitoring,
    LoaderOptions loader,
    BatchingParameters batching) {

  static final String DEFAULT_METRICS_PATH = "/monitoring/prometheus/metrics";

  WorkerOptions worker() {
    return new WorkerOptions(modelConfig, modelConfigFile, configPollSeconds, fileSystemPollSeconds,
        loader, batching, inferenceThreads, loadThreads);
  }

  GatewayOptions gateway(String serverVersion) {
    return new GatewayOptions("0.0.0.0", restPort, grpcPort, restTimeoutMillis, maxRequestBodyBytes,
        grpcMaxMessageBytes, metricsPath(), serverVersion);
  }

  /** Metrics are on by default; a monitoring config can move them or switch them off. */
  private String metricsPath() {
    if (!monitoring.hasPrometheusConfig()) {
      return DEFAULT_METRICS_PATH;
    }
    if (!monitoring.getPrometheusConfig().getEnable()) {
      return null;
    }
    String path = monitoring.getPrometheusConfig().getPath();
    return path.isEmpty() ? DEFAULT_METRICS_PATH : path;
  }
}
