package io.infergate.gateway.metrics;

import io.infergate.common.status.StatusCode;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Request count and latency by model, version, API and status. Latency is a histogram with
 * buckets dense around the 50 ms target, so P99 can be aggregated across replicas. Tags stay
 * bounded: a model that does not exist is recorded as "unknown", never by the name a client sent.
 */
public final class RequestMetrics {

  public static final String LATENCY = "infergate.request.latency";
  public static final String UNKNOWN = "unknown";

  private static final Duration[] BUCKETS = {
      Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(3),
      Duration.ofMillis(5), Duration.ofMillis(7), Duration.ofMillis(10), Duration.ofMillis(15),
      Duration.ofMillis(20), Duration.ofMillis(30), Duration.ofMillis(40), Duration.ofMillis(50),
      Duration.ofMillis(75), Duration.ofMillis(100), Duration.ofMillis(150), Duration.ofMillis(250),
      Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
      Duration.ofSeconds(10), Duration.ofSeconds(30)};

  private final MeterRegistry registry;
  /** One timer per tag set, built once: registering a meter per request costs allocations and a lookup. */
  private final Map<Tags, Timer> timers = new ConcurrentHashMap<>();

  public RequestMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** Records one finished request; {@code model} and {@code version} must be known servables or UNKNOWN. */
  public void record(String model, String version, String api, String entrypoint, StatusCode status,
                     long startNanos) {
    Tags tags = Tags.of("model", model, "version", version, "api", api, "entrypoint", entrypoint,
        "status", status.name());
    timers.computeIfAbsent(tags, t -> Timer.builder(LATENCY)
            .description("Time from a request's arrival to its response, by model, version, API and status")
            .tags(t)
            .serviceLevelObjectives(BUCKETS)
            .register(registry))
        .record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
  }
}
