package io.infergate.common.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.util.EnumSet;

/**
 * Vert.x's own metrics (event bus, worker pools) and the JVM's (memory, GC, threads, CPU) in the
 * process's registry. Only bounded labels are on: no remote addresses or request paths. HTTP and
 * TCP metrics are off: Infergate records every request itself, and Vert.x's per-request timers
 * would cost throughput on the hot path for the same numbers.
 */
public final class VertxMetrics {

  private VertxMetrics() {}

  public static VertxBuilder builder(VertxOptions options, MeterRegistry registry) {
    MicrometerMetricsOptions metrics = new MicrometerMetricsOptions()
        .setEnabled(true)
        .setJvmMetricsEnabled(true)
        .setLabels(EnumSet.of(Label.EB_ADDRESS, Label.EB_SIDE, Label.EB_FAILURE, Label.POOL_TYPE, Label.POOL_NAME))
        .addDisabledMetricsCategory(MetricsDomain.HTTP_SERVER)
        .addDisabledMetricsCategory(MetricsDomain.NET_SERVER)
        .addDisabledMetricsCategory(MetricsDomain.HTTP_CLIENT)
        .addDisabledMetricsCategory(MetricsDomain.NET_CLIENT)
        .addDisabledMetricsCategory(MetricsDomain.DATAGRAM_SOCKET);
    return io.vertx.core.Vertx.builder().with(options.setMetricsOptions(metrics))
        .withMetrics(new MicrometerMetricsFactory(registry));
  }
}
