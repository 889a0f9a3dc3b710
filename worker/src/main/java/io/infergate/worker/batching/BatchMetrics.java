package io.infergate.worker.batching;

import io.infergate.common.metrics.MetricNames;
import io.infergate.common.Priority;
import io.infergate.common.ServableId;
import io.infergate.common.metrics.TfServingMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * The batching metrics of one servable, tagged by model and version, and TF Serving's
 * batching_session histograms under their names and labels (shared by all servables, as in TF
 * Serving, so they outlive any one servable).
 */
final class BatchMetrics {

  private static final double[] SIZES = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048};
  private static final Duration[] WAITS = {
      Duration.ofNanos(50_000), Duration.ofNanos(100_000), Duration.ofNanos(250_000),
      Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5),
      Duration.ofMillis(10), Duration.ofMillis(20), Duration.ofMillis(50), Duration.ofMillis(100),
      Duration.ofMillis(250), Duration.ofSeconds(1)};

  private final MeterRegistry registry;
  private final Tags tags;
  private final List<Meter> meters = new CopyOnWriteArrayList<>();
  final Timer queueWait;
  final Timer runTime;
  final DistributionSummary batchSize;
  final DistributionSummary padding;
  final Counter executions;
  final Counter inferences;
  final Counter rejected;
  final Counter expired;
  private final DistributionSummary tfQueuing;
  private final DistributionSummary tfInputSize;
  private final DistributionSummary tfProcessedSize;
  /** By padded size, which max_batch_size bounds; built once per size, not per batch. */
  private final Map<Integer, DistributionSummary> tfPadding = new ConcurrentHashMap<>();
  private final Map<String, Counter> shed = new ConcurrentHashMap<>();

  private BatchMetrics(MeterRegistry registry, Tags tags) {
    this.registry = registry;
    this.tags = tags;
    queueWait = keep(Timer.builder(MetricNames.BATCH_QUEUE_WAIT).tags(tags)
        .description("Time a request waited in the batch queue").serviceLevelObjectives(WAITS).register(registry));
    runTime = keep(Timer.builder(MetricNames.BATCH_RUN).tags(tags)
        .description("Time TensorFlow took to run one batch").serviceLevelObjectives(WAITS).register(registry));
    batchSize = keep(DistributionSummary.builder(MetricNames.BATCH_SIZE).tags(tags)
        .description("Rows per executed batch, padding included").serviceLevelObjectives(SIZES).register(registry));
    padding = keep(DistributionSummary.builder(MetricNames.BATCH_PADDING).tags(tags)
        .description("Padding rows added to reach an allowed batch size").serviceLevelObjectives(SIZES).register(registry));
    executions = keep(Counter.builder(MetricNames.BATCH_EXECUTIONS).tags(tags)
        .description("TensorFlow calls made by the batcher").register(registry));
    inferences = keep(Counter.builder(MetricNames.BATCH_INFERENCES).tags(tags)
        .description("Requests served by those calls").register(registry));
    rejected = keep(Counter.builder(MetricNames.BATCH_REJECTED).tags(tags)
        .description("Requests refused because the queue was full or they were too large").register(registry));
    expired = keep(Counter.builder(MetricNames.BATCH_EXPIRED).tags(tags)
        .description("Requests dropped unrun because their deadline passed in the queue").register(registry));
    Tags pool = Tags.of("thread_pool_name", "infergate-batch");
    tfQueuing = TfServingMetrics.micros(registry, MetricNames.TF_SERVING_BATCHING_SESSION_QUEUING_LATENCY,
        "Microseconds a request waited for its batch (TF Serving's name)", pool);
    tfInputSize = TfServingMetrics.sizes(registry, MetricNames.TF_SERVING_BATCHING_SESSION_INPUT_BATCH_SIZE,
        "Rows of each request that joined a batch (TF Serving's name)", Tags.empty());
    tfProcessedSize = TfServingMetrics.sizes(registry, MetricNames.TF_SERVING_BATCHING_SESSION_PROCESSED_BATCH_SIZE,
        "Rows of each batch run, padding included (TF Serving's name)", Tags.empty());
  }

  static BatchMetrics of(MeterRegistry registry, ServableId servable) {
    return new BatchMetrics(registry, Tags.of("model", servable.name(), "version", Long.toString(servable.version())));
  }

  /** The timeout and batch size a tuner has chosen, as they change. */
  void trackTuner(LatencyTargetTuner tuner) {
    keep(Gauge.builder(MetricNames.BATCH_TUNED_TIMEOUT, tuner, t -> t.timeoutNanos() / 1e9).tags(tags).baseUnit("seconds")
        .description("Batch timeout chosen to hold the model's latency target").register(registry));
    keep(Gauge.builder(MetricNames.BATCH_TUNED_SIZE, tuner, LatencyTargetTuner::batchSize).tags(tags)
        .description("Batch size limit chosen to hold the model's latency target").register(registry));
  }

  /** Requests of a priority refused or dropped from the queue for {@code reason}; built once per pair. */
  Counter shed(Priority priority, String reason) {
    return shed.computeIfAbsent(priority + "/" + reason, key -> keep(Counter.builder(MetricNames.BATCH_SHED).tags(tags)
        .tag("priority", priority.name().toLowerCase(Locale.ROOT)).tag("reason", reason)
        .description("Requests refused or dropped from the batch queue: beyond the latency target, "
            + "or preempted by higher priorities").register(registry)));
  }

  <T> void trackDepth(T queue, ToDoubleFunction<T> depth) {
    keep(Gauge.builder(MetricNames.BATCH_QUEUE_DEPTH, queue, depth).tags(tags)
        .description("Requests waiting in the batch queue").register(registry));
  }

  /** One request taken from the queue into a batch after waiting {@code waitedNanos}. */
  void recordTask(long waitedNanos, long rows) {
    queueWait.record(waitedNanos, TimeUnit.NANOSECONDS);
    tfQueuing.record(waitedNanos / 1_000.0);
    tfInputSize.record(rows);
  }

  void recordBatch(int requests, long rows, int paddedRows) {
    executions.increment();
    inferences.increment(requests);
    batchSize.record(paddedRows);
    padding.record(paddedRows - rows);
    tfProcessedSize.record(paddedRows);
    tfPadding.computeIfAbsent(paddedRows, size -> TfServingMetrics.sizes(registry, MetricNames.TF_SERVING_BATCHING_SESSION_PADDING_SIZE,
        "Padding rows per batch, by the padded size (TF Serving's name)",
        Tags.of("execution_batch_size", Integer.toString(size)))).record(paddedRows - rows);
  }

  /** Drops this servable's meters once it has unloaded, so tags stay bounded. */
  void remove() {
    meters.forEach(registry::remove);
  }

  private <M extends Meter> M keep(M meter) {
    meters.add(meter);
    return meter;
  }
}
