package io.infergate.worker.lifecycle;

import io.infergate.common.metrics.MetricNames;
import io.infergate.common.ServableId;
import io.infergate.proto.serving.ModelVersionStatus.State;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Load latency, the current lifecycle state of each version, and the memory versions hold against the budget. */
final class LifecycleMetrics {

  private final MeterRegistry registry;
  private final Map<ServableId, AtomicInteger> states = new ConcurrentHashMap<>();
  private final Map<ServableId, Gauge> gauges = new ConcurrentHashMap<>();
  private final Map<ServableId, Gauge> footprints = new ConcurrentHashMap<>();
  private final Map<ServableId, Long> held = new ConcurrentHashMap<>();

  LifecycleMetrics(MeterRegistry registry, long memoryBudgetBytes) {
    this.registry = registry;
    Gauge.builder(MetricNames.WORKER_MEMORY_BUDGET, () -> memoryBudgetBytes).baseUnit("bytes")
        .description("Memory the worker's loaded versions may hold together").register(registry);
    Gauge.builder(MetricNames.WORKER_MEMORY_USED, this, LifecycleMetrics::heldBytes).baseUnit("bytes")
        .description("Memory the worker's loaded versions hold, as measured at their loads").register(registry);
  }

  /** A version holds {@code bytes} from its load until it is forgotten. */
  void holds(ServableId id, long bytes) {
    held.put(id, bytes);
    footprints.computeIfAbsent(id, key -> Gauge.builder(MetricNames.MODEL_MEMORY, held, map -> map.getOrDefault(key, 0L))
        .baseUnit("bytes").description("Memory a loaded version holds, measured at its load")
        .tags(tags(key)).register(registry));
  }

  long heldBytes() {
    return held.values().stream().mapToLong(Long::longValue).sum();
  }

  long heldBytes(String model) {
    return held.entrySet().stream().filter(e -> e.getKey().name().equals(model)).mapToLong(Map.Entry::getValue).sum();
  }

  void state(ServableId id, State state) {
    states.computeIfAbsent(id, key -> {
      AtomicInteger value = new AtomicInteger();
      gauges.put(key, Gauge.builder(MetricNames.MODEL_STATE, value, AtomicInteger::get)
          .description("Lifecycle state of a version: 10 START, 20 LOADING, 30 AVAILABLE, 40 UNLOADING, 50 END")
          .tags(tags(key)).register(registry));
      return value;
    }).set(state.getNumber());
  }

  void loaded(ServableId id, long nanos, boolean succeeded) {
    Timer.builder(MetricNames.MODEL_LOAD)
        .description("Time to load and warm up a version, retries included")
        .tags(tags(id).and("outcome", succeeded ? "success" : "failure"))
        .serviceLevelObjectives(Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofSeconds(1),
            Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofMinutes(2))
        .register(registry)
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  void forget(ServableId id) {
    states.remove(id);
    held.remove(id);
    for (Map<ServableId, Gauge> meters : List.of(gauges, footprints)) {
      Gauge gauge = meters.remove(id);
      if (gauge != null) {
        registry.remove(gauge);
      }
    }
  }

  private static Tags tags(ServableId id) {
    return Tags.of("model", id.name(), "version", Long.toString(id.version()));
  }
}
