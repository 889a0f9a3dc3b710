package io.infergate.app;

import io.infergate.common.metrics.VertxMetrics;
import io.infergate.common.registry.LocalModelRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

/** The single-process server: the worker and the gateways in one JVM on the local event bus. */
final class InfergateServer {

  private InfergateServer() {}

  static Future<Node> start(ServeOptions options) {
    PrometheusMeterRegistry prometheus = Node.newMeterRegistry();
    VertxOptions vertxOptions = EventLoopOptions.of(options.eventLoops());
    if (options.blockingThreads() > 0) {
      vertxOptions.setWorkerPoolSize(options.blockingThreads()).setInternalBlockingPoolSize(options.blockingThreads());
    }
    Vertx vertx = VertxMetrics.builder(vertxOptions, prometheus).build();
    return Node.start(vertx, prometheus, new LocalModelRegistry(), LocalModelRegistry.LOCAL_WORKER, options.worker(),
        options.gateway(), options.eventLoops(), null);
  }
}
