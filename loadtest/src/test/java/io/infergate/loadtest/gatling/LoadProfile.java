package io.infergate.loadtest.gatling;

import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.rampUsersPerSec;

import io.gatling.javaapi.core.Assertion;
import io.gatling.javaapi.core.OpenInjectionStep;
import java.time.Duration;
import java.util.List;

/**
 * The open-model load every simulation offers, from system properties: a ramp of arrival rates
 * up to {@code rate} requests per second over {@code ramp} seconds, then {@code rate} held for
 * {@code duration} seconds; and the pass criteria, P99 under {@code p99_ms} and fewer than
 * {@code max_error_percent} failed requests.
 */
final class LoadProfile {

  final String baseUrl = System.getProperty("base_url", "http://localhost:8501");
  final double rate = Double.parseDouble(System.getProperty("rate", "500"));
  final long rampSeconds = Long.parseLong(System.getProperty("ramp", "20"));
  final long durationSeconds = Long.parseLong(System.getProperty("duration", "60"));
  final int p99Millis = Integer.parseInt(System.getProperty("p99_ms", "50"));
  final double maxErrorPercent = Double.parseDouble(System.getProperty("max_error_percent", "1"));

  OpenInjectionStep[] injection() {
    return new OpenInjectionStep[] {
        rampUsersPerSec(1).to(rate).during(Duration.ofSeconds(rampSeconds)),
        constantUsersPerSec(rate).during(Duration.ofSeconds(durationSeconds))};
  }

  List<Assertion> assertions() {
    return List.of(
        global().responseTime().percentile(99.0).lt(p99Millis),
        global().failedRequests().percent().lt(maxErrorPercent));
  }
}
