package io.infergate.gateway.metrics;

import io.infergate.common.metrics.MetricNames;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * How late an event loop runs a timer: the time a task waits behind others on that loop, the
 * first sign of a loop that is saturated or blocked. One timer per gateway event loop.
 */
public final class EventLoopLag {

  private static final long PERIOD_MILLIS = 100;

  private EventLoopLag() {}

  /** Starts measuring the calling event loop; returns the periodic timer's id. */
  public static long start(Vertx vertx, MeterRegistry registry) {
    Timer lag = Timer.builder(MetricNames.EVENTLOOP_LAG)
        .description("How late a gateway event loop ran a periodic timer (time tasks wait on the loop)")
        .tag("thread", Thread.currentThread().getName())
        .serviceLevelObjectives(Duration.ofNanos(100_000), Duration.ofMillis(1), Duration.ofMillis(5),
            Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofSeconds(1))
        .register(registry);
    long[] last = {System.nanoTime()};
    return vertx.setPeriodic(PERIOD_MILLIS, id -> {
      long now = System.nanoTime();
      lag.record(Math.max(0, now - last[0] - TimeUnit.MILLISECONDS.toNanos(PERIOD_MILLIS)), TimeUnit.NANOSECONDS);
      last[0] = now;
    });
  }
}
