package io.infergate.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.infergate.worker.TestModels;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Paging by memory with real TensorFlow models through the real REST API: three pageable models
 * and a pinned one under a budget that holds no pageable model beside another, so every switch
 * between them is an eviction.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PagingTest {

  static final String REQUEST = "{\"instances\": [1.0, 2.0]}";
  static final String ANSWER = "{\"predictions\":[2.5,3.0]}";

  @TempDir
  static Path dir;

  static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    String cpu = TestModels.tfServing("saved_model_half_plus_two_cpu").toString();
    Path config = Files.writeString(dir.resolve("models.config"), """
        model_config_list {
          config { name: "hot" base_path: "%s" paging: PINNED }
          config { name: "a" base_path: "%s" }
          config { name: "b" base_path: "%s" }
          config { name: "c" base_path: "%s" paging: PAGEABLE }
        }""".formatted(cpu, cpu, TestModels.tfServing("saved_model_half_plus_two_tf2_cpu"),
        TestModels.tfServing("saved_model_half_plus_two_2_versions")));
    server = TestServer.start("--rest_api_port=0", "--port=0", "--model_config_file=" + config,
        "--default_model_paging=pageable", "--memory_budget_bytes=1");
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  @Order(1)
  void pageableModelsAreKnownAndReadyBeforeTheyLoad() throws Exception {
    assertThat(server.get("/readyz").status()).isEqualTo(200);
    assertThat(loaded("a")).isFalse();
    assertThat(server.get("/v1/models/a").body()).contains("\"state\": \"START\"");
    assertThat(server.get("/v1/models/nothing").status()).isEqualTo(404);
  }

  @Test
  @Order(2)
  void aFirstRequestLoadsTheModelAndTheNextOneEvictsIt() throws Exception {
    assertThat(server.post("/v1/models/a:predict", REQUEST).body()).isEqualTo(ANSWER);
    assertThat(loaded("a")).isTrue();
    assertThat(server.post("/v1/models/b:predict", REQUEST).body()).isEqualTo(ANSWER);
    assertThat(loaded("b")).isTrue();
    assertThat(loaded("a")).as("evicted for b: the budget holds one").isFalse();
    assertThat(loaded("hot")).as("pinned").isTrue();
    assertThat(metric("infergate_paging_evictions_total")).isGreaterThanOrEqualTo(1);
  }

  @Test
  @Order(3)
  void concurrentFirstRequestsWaitForOneLoad() throws Exception {
    double loadsBefore = metric("infergate_paging_loads_total");
    List<Future<io.vertx.ext.web.client.HttpResponse<Buffer>>> requests = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      requests.add(server.sendAsync(HttpMethod.POST, "/v1/models/c/versions/124:predict", Buffer.buffer(REQUEST)));
    }
    for (var request : requests) {
      assertThat(TestServer.await(request).bodyAsString()).isEqualTo(ANSWER);
    }
    assertThat(metric("infergate_paging_loads_total") - loadsBefore).isEqualTo(1);
    assertThat(metric("infergate_paging_cold_start_seconds_count")).isGreaterThanOrEqualTo(3);
  }

  @Test
  @Order(4)
  void modelsTakingTurnsUnderTrafficLoseNoRequest() throws Exception {
    double evictionsBefore = metric("infergate_paging_evictions_total");
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicInteger succeeded = new AtomicInteger();
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    List<Thread> clients = new ArrayList<>();
    for (String model : List.of("a", "b", "hot")) {
      Thread client = new Thread(() -> {
        while (running.get()) {
          try {
            TestServer.Response answer = server.post("/v1/models/" + model + ":predict", REQUEST);
            if (answer.status() == 200 && answer.body().equals(ANSWER)) {
              succeeded.incrementAndGet();
            } else {
              failures.add(model + ": " + answer.status() + " " + answer.body());
            }
          } catch (Exception e) {
            failures.add(model + ": " + e);
          }
        }
      });
      clients.add(client);
      client.start();
    }
    Thread.sleep(4_000);
    running.set(false);
    for (Thread client : clients) {
      client.join();
    }
    assertThat(failures).as("a model is evicted only when idle, and a request finding it gone has it loaded again")
        .isEmpty();
    assertThat(succeeded.get()).isGreaterThan(30);
    assertThat(metric("infergate_paging_evictions_total") - evictionsBefore).as("a and b took turns").isGreaterThan(2);
    assertThat(metric("infergate_paging_requests_total")).as("requests to pageable models, for the hit ratio")
        .isGreaterThan(metric("infergate_paging_loads_total"));
  }

  private static boolean loaded(String model) {
    return server.server.registry().snapshot().model(model)
        .map(view -> view.versions().values().stream().anyMatch(record -> record.isAvailable())).orElse(false);
  }

  private static double metric(String name) throws Exception {
    Matcher matcher = Pattern.compile("(?m)^" + Pattern.quote(name) + "(?:\\{[^}]*\\})? ([0-9.eE+-]+)$")
        .matcher(server.get("/monitoring/prometheus/metrics").body());
    double sum = 0;
    while (matcher.find()) {
      sum += Double.parseDouble(matcher.group(1));
    }
    return sum;
  }
}
