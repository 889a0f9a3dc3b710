package io.infergate.gateway.metrics;

import io.infergate.common.metrics.MetricNames;
import io.infergate.common.ServableId;
import io.infergate.common.metrics.TfServingMetrics;
import io.infergate.common.registry.ModelRegistry;
import io.infergate.common.registry.ModelView;
import io.infergate.common.status.StatusCode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Request count and latency, twice: Infergate's own histogram by model, version, label, API,
 * entrypoint and status, with buckets dense around the 50 ms target (so P99 can be aggregated
 * across replicas), and TF Serving's request_count / request_latency under their names and
 * labels. Tags stay bounded: a model that does not exist is recorded as "unknown", never by the
 * name a client sent, and a label is one the model's config defines.
 */
public final class RequestMetrics {

  public static final String UNKNOWN = "unknown";
  private static final long NO_VERSION = -1;

  private static final Duration[] BUCKETS = {
      Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(3),
      Duration.ofMillis(5), Duration.ofMillis(7), Duration.ofMillis(10), Duration.ofMillis(15),
      Duration.ofMillis(20), Duration.ofMillis(30), Duration.ofMillis(40), Duration.ofMillis(50),
      Duration.ofMillis(75), Duration.ofMillis(100), Duration.ofMillis(150), Duration.ofMillis(250),
      Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
      Duration.ofSeconds(10), Duration.ofSeconds(30)};

  private final MeterRegistry registry;
  private final ModelRegistry models;
  /**
   * The meters of each tag combination, built once: registering meters (or even building their
   * sorted Tags) per request costs allocations and lookups on the hot path.
   */
  private final Map<Key, Meters> meters = new ConcurrentHashMap<>();

  /** {@code version} is {@link #NO_VERSION} when no servable answered. */
  private record Key(String model, long version, String label, String api, String entrypoint, StatusCode status) {}

  private record Meters(Timer latency, Counter tfCount, DistributionSummary tfLatency) {}

  public RequestMetrics(MeterRegistry registry, ModelRegistry models) {
    this.registry = registry;
    this.models = models;
  }

  public MeterRegistry registry() {
    return registry;
  }

  /**
   * Records one finished request: by the servable that answered it, or, when none did, by the
   * model it named if that model exists ("unknown" otherwise, never a client's free text).
   *
   * @param served the servable that answered, or null (a failure, or an answer from no servable)
   * @param requestedModel the model the request named, or null
   */
  public void record(ServableId served, String requestedModel, String api, String entrypoint, StatusCode status,
                     long startNanos) {
    long elapsed = System.nanoTime() - startNanos;
    Key key = served != null
        ? new Key(served.name(), served.version(), label(served), api, entrypoint, status)
        : new Key(knownModel(requestedModel), NO_VERSION, "", api, entrypoint, status);
    Meters meters = this.meters.computeIfAbsent(key, this::register);
    meters.latency().record(elapsed, TimeUnit.NANOSECONDS);
    meters.tfCount().increment();
    meters.tfLatency().record(elapsed / 1_000.0);
  }

  private Meters register(Key key) {
    Timer latency = Timer.builder(MetricNames.REQUEST_LATENCY)
        .description("Time from a request's arrival to its response, by model, version, label, API and status")
        .tags("model", key.model(), "version", key.version() == NO_VERSION ? UNKNOWN : Long.toString(key.version()), "label", key.label(), "api", key.api(),
            "entrypoint", key.entrypoint(), "status", key.status().name())
        .serviceLevelObjectives(BUCKETS)
        .register(registry);
    Counter count = Counter.builder(MetricNames.TF_SERVING_REQUEST_COUNT).description("The number of requests (TF Serving's name)")
        .tags("model_name", key.model(), "status", key.status().name()).register(registry);
    DistributionSummary tfLatency = TfServingMetrics.micros(registry, MetricNames.TF_SERVING_REQUEST_LATENCY,
        "Request latency in microseconds (TF Serving's name and buckets)",
        Tags.of("model_name", key.model(), "API", key.api(), "entrypoint", key.entrypoint()));
    return new Meters(latency, count, tfLatency);
  }

  private String knownModel(String model) {
    return model != null && models.snapshot().model(model).isPresent() ? model : UNKNOWN;
  }

  /** The label the model's config gives the served version, or "" when none does. */
  private String label(ServableId served) {
    ModelView view = models.snapshot().models().get(served.name());
    if (view == null || view.labels().isEmpty()) {
      return "";
    }
    String found = "";
    for (Map.Entry<String, Long> entry : view.labels().entrySet()) {
      // Lowest label name first, so a version with two labels is always tagged the same way.
      if (entry.getValue() == served.version() && (found.isEmpty() || entry.getKey().compareTo(found) < 0)) {
        found = entry.getKey();
      }
    }
    return found;
  }
}
