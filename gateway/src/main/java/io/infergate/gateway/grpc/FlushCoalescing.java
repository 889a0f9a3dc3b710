package io.infergate.gateway.grpc;

import io.netty.handler.flush.FlushConsolidationHandler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Coalesces socket flushes on a multiplexed HTTP/2 connection. Answers complete off the event
 * loop (a batch finishes many streams at once) and Vert.x flushes each stream's response on its
 * own: one write system call per answer. Netty's flush consolidation turns the flushes of one
 * event-loop pass into one write, as Vert.x already does for answers written while reading.
 * Measured on 2 cores: the per-answer flush took a third of the event loops' time.
 *
 * <p>Vert.x's public API has no hook into a connection's Netty pipeline, so this is the one
 * place that uses its implementation class {@code ConnectionBase}. {@code FlushCoalescingTest}
 * fails when a Vert.x upgrade moves it; at run time the server then logs once and serves on
 * without the coalescing.
 */
final class FlushCoalescing {

  private static final Logger LOG = LoggerFactory.getLogger(FlushCoalescing.class);
  static final String HANDLER = "infergate-flush-coalescing";
  /** Flush at the latest after this many answers, so a long burst still streams out. */
  private static final int MAX_COALESCED_FLUSHES = 64;
  private static volatile boolean warned;

  private FlushCoalescing() {}

  /** For {@code HttpServer.connectionHandler}; whether the connection's flushes are now coalesced. */
  static boolean install(HttpConnection connection) {
    if (connection instanceof ConnectionBase base) {
      base.channel().pipeline().addFirst(HANDLER, new FlushConsolidationHandler(MAX_COALESCED_FLUSHES, true));
      return true;
    }
    if (!warned) {
      warned = true;
      LOG.warn("gRPC answers are flushed one by one: this Vert.x's connections ({}) offer no Netty pipeline",
          connection.getClass().getName());
    }
    return false;
  }
}
