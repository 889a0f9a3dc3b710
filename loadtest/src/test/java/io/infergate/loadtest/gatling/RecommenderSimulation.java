package io.infergate.loadtest.gatling;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.header;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * The recommender case: each request scores {@code candidates} items for one user, by entity
 * ids only; the gateway fetches user and item features from the feature store (Redis or the
 * demo's Hazelcast map). Users and items are drawn from the demo feature set (u1..u1000,
 * 1..1000), a hot tenth of the users taking half the traffic, so the near cache matters. Under
 * a weighted A/B split every answer names the version that served it (x-model-version);
 * Gatling's report counts them per version. Run: {@code loadtest/gatling.sh recommender}.
 */
public class RecommenderSimulation extends Simulation {

  private final LoadProfile load = new LoadProfile();
  private final int users = Integer.getInteger("users", 1000);
  private final int items = Integer.getInteger("items", 1000);
  private final int candidates = Integer.getInteger("candidates", 10);

  private final Iterator<Map<String, Object>> requests = Stream.generate(this::request).iterator();

  private Map<String, Object> request() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    int user = random.nextBoolean() ? 1 + random.nextInt(Math.max(1, users / 10)) : 1 + random.nextInt(users);
    StringBuilder body = new StringBuilder("{\"instances\": [");
    for (int i = 0; i < candidates; i++) {
      body.append(i == 0 ? "" : ", ").append("{\"user_id\": \"u").append(user).append("\", \"item_id\": ")
          .append(1 + random.nextInt(items)).append('}');
    }
    return Map.of("body", body.append("]}").toString());
  }

  private final HttpProtocolBuilder protocol = http.baseUrl(load.baseUrl)
      .contentTypeHeader("application/json").acceptHeader("application/json").shareConnections();

  private final ScenarioBuilder recommend = scenario("Recommender: ids in, scores out")
      .feed(requests)
      .exec(http("score candidates").post("/v1/models/ctr:predict").body(StringBody("#{body}"))
          .check(status().is(200), jsonPath("$.predictions[" + (candidates - 1) + "]").exists(),
              header("x-model-version").exists()));

  {
    setUp(recommend.injectOpen(load.injection())).protocols(protocol).assertions(load.assertions());
  }
}
