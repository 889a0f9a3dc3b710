package io.infergate.app;

import io.vertx.core.VertxOptions;
import java.util.concurrent.TimeUnit;

/**
 * The Vert.x options of every Infergate process. Vert.x warns when an event-loop task runs
 * longer than a limit (2 s by default); the system property
 * {@code infergate.max_event_loop_block_ms} tightens it, so that anything slow on an event loop
 * shows: the tests set it, and a test fails on any such warning.
 */
final class EventLoopOptions {

  static final String MAX_BLOCK_PROPERTY = "infergate.max_event_loop_block_ms";

  private EventLoopOptions() {}

  static VertxOptions of(int eventLoops) {
    VertxOptions options = new VertxOptions().setEventLoopPoolSize(eventLoops);
    String limit = System.getProperty(MAX_BLOCK_PROPERTY);
    if (limit != null) {
      long millis = Long.parseLong(limit);
      options.setMaxEventLoopExecuteTime(millis).setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS)
          .setBlockedThreadCheckInterval(Math.max(10, millis / 4))
          .setBlockedThreadCheckIntervalUnit(TimeUnit.MILLISECONDS);
    }
    return options;
  }
}
