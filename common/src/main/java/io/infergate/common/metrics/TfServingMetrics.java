package io.infergate.common.metrics;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;

/**
 * TensorFlow Serving's metrics (names in {@link MetricNames}) with its buckets, so dashboards built
 * for TF Serving keep working.
 * TF Serving exports {@code /tensorflow/serving/request_count} as
 * {@code :tensorflow:serving:request_count}; Prometheus reserves colons for recording rules
 * (promtool rejects them in exported metrics) and wants counters to end in {@code _total}, so
 * here the same metric is {@code tensorflow_serving_request_count_total}. Latencies are in
 * microseconds with TF Serving's buckets (10 µs × 1.8^k, 33 of them).
 */
public final class TfServingMetrics {

  private static final double[] MICROS = new double[33];
  private static final double[] SIZES = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096};

  static {
    double bound = 10;
    for (int i = 0; i < MICROS.length; i++) {
      MICROS[i] = Math.round(bound);
      bound *= 1.8;
    }
  }

  private TfServingMetrics() {}

  /** A latency histogram in microseconds with TF Serving's buckets. */
  public static DistributionSummary micros(MeterRegistry registry, String name, String description, Tags tags) {
    return DistributionSummary.builder(name).description(description).tags(tags)
        .serviceLevelObjectives(MICROS).register(registry);
  }

  /** A histogram of batch sizes (rows). */
  public static DistributionSummary sizes(MeterRegistry registry, String name, String description, Tags tags) {
    return DistributionSummary.builder(name).description(description).tags(tags)
        .serviceLevelObjectives(SIZES).register(registry);
  }
}
