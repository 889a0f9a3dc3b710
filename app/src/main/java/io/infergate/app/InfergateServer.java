package io.infergate.app;

import io.infergate.common.registry.LocalModelRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

/** The single-process server: the worker and the gateways in one JVM on the local event bus. */
final class InfergateServer {

  private InfergateServer() {}

  static Future<Node> start(ServeOptions options) {
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(options.eventLoops()));
    return Node.start(vertx, new LocalModelRegistry(), LocalModelRegistry.LOCAL_WORKER, options.worker(),
        options.gateway(), options.eventLoops(), null);
  }
}
