package io.infergate.app;

import io.vertx.core.Future;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code infergate worker}: a worker process of the cluster, serving the models its config names. */
@Command(name = "worker", mixinStandardHelpOptions = true,
    description = "Run a worker in the Infergate cluster: load the configured models and answer gateways.")
final class WorkerCommand implements Callable<Integer> {

  @Mixin
  WorkerFlags worker;

  @Mixin
  ClusterFlags cluster;

  @Option(names = "--monitoring_port", defaultValue = "${env:INFERGATE_MONITORING_PORT:-8502}",
      description = "Port of the worker's Prometheus metrics (batching, lifecycle); 0 = none. Default: ${DEFAULT-VALUE}")
  int monitoringPort;

  @Option(names = "--monitoring_host", defaultValue = "${env:INFERGATE_MONITORING_HOST:-0.0.0.0}",
      description = "Address the worker's metrics port listens on. Default: ${DEFAULT-VALUE}")
  String monitoringHost;

  @Override
  public Integer call() throws Exception {
    return Processes.runUntilStopped(() -> ClusterNodes.start(cluster.toOptions(), worker.toOptions(), null,
            Math.max(2, GatewayFlags.CORES))
        .map(ClusterNodes.Member::node)
        .compose(node -> monitoringPort == 0 ? Future.succeededFuture(node)
            : node.vertx().createHttpServer()
                .requestHandler(request -> request.response()
                    .putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8")
                    .end(node.prometheus().scrape()))
                .listen(monitoringPort, monitoringHost).map(server -> node)));
  }
}
