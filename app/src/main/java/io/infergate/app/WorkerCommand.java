package io.infergate.app;

import io.infergate.worker.WorkerOptions;
import io.vertx.core.Future;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
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
      description = "Port of the worker's Prometheus metrics (/metrics) and probes (/healthz, /readyz); 0 = none. "
          + "Default: ${DEFAULT-VALUE}")
  int monitoringPort;

  @Option(names = "--monitoring_host", defaultValue = "${env:INFERGATE_MONITORING_HOST:-0.0.0.0}",
      description = "Address the worker's metrics port listens on. Default: ${DEFAULT-VALUE}")
  String monitoringHost;

  @Override
  public Integer call() throws Exception {
    int eventLoops = Math.max(2, GatewayFlags.CORES);
    return Processes.runUntilStopped(() -> {
      WorkerOptions options = worker.toOptions();
      return ClusterNodes.join(cluster.toOptions(), eventLoops).compose(joined -> {
        AtomicReference<Node> started = new AtomicReference<>();
        Future<?> probes = monitoringPort == 0 ? Future.succeededFuture()
            : WorkerMonitoring.listen(joined.vertx(), joined.prometheus(),
                () -> started.get() != null && started.get().workerReady(), monitoringHost, monitoringPort);
        return probes.compose(listening -> joined.startNode(options, null, eventLoops))
            .map(member -> {
              started.set(member.node());
              return member.node();
            })
            // Node.start closes Vert.x when it fails; a port that cannot be bound must too.
            .recover(failure -> joined.vertx().close().transform(closed -> Future.failedFuture(failure)));
      });
    });
  }
}
