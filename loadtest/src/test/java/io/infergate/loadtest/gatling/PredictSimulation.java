package io.infergate.loadtest.gatling;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * REST predict on the demo CTR model with full feature vectors, under an open-model ramp and
 * hold (see {@link LoadProfile}); fails unless P99 and the error rate meet their targets.
 * Run: {@code loadtest/gatling.sh predict -Drate=2000}.
 */
public class PredictSimulation extends Simulation {

  private final LoadProfile load = new LoadProfile();

  private final HttpProtocolBuilder protocol = http.baseUrl(load.baseUrl)
      .contentTypeHeader("application/json").acceptHeader("application/json").shareConnections();

  private final ScenarioBuilder predict = scenario("REST predict, demo CTR model")
      .exec(http("predict").post("/v1/models/ctr:predict").body(StringBody(body()))
          .check(status().is(200), jsonPath("$.predictions[0]").exists()));

  /** The request body: loadtest/ctr-request.json (the one the other benchmarks send), or -Drequest_file. */
  private static String body() {
    try {
      return Files.readString(Path.of(System.getProperty("request_file", "ctr-request.json")));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  {
    setUp(predict.injectOpen(load.injection())).protocols(protocol).assertions(load.assertions());
  }
}
