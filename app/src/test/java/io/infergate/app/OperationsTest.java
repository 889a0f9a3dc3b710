package io.infergate.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.infergate.proto.serving.ModelSpec;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.proto.serving.PredictionServiceGrpc;
import io.infergate.worker.TestModels;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * What operators rely on: a live scrape that promtool accepts and that carries TF Serving's and
 * Infergate's metric families, the alert rules and their unit tests, the dashboard's queries, and
 * health probes whose readiness drops while the server drains at shutdown. promtool comes from
 * Debian's prometheus package (.ci/run installs it).
 */
class OperationsTest {

  static final Path MONITORING = projectRoot().resolve("k8s/monitoring");

  @TempDir
  Path dir;

  @Test
  void aLiveScrapePassesPromtoolAndCarriesTheMetricFamilies() throws Exception {
    int grpcPort = TestServer.freePort();
    try (TestServer server = TestServer.start("--rest_api_port=0", "--port=" + grpcPort, "--model_name=hp",
        "--model_base_path=" + TestModels.tfServing("saved_model_half_plus_two_cpu"), "--enable_batching")) {
      assertThat(server.post("/v1/models/hp:predict", "{\"instances\": [1.0, 2.0]}").status()).isEqualTo(200);
      ManagedChannel channel = ManagedChannelBuilder.forAddress("localhost", grpcPort).usePlaintext().build();
      try {
        PredictionServiceGrpc.newBlockingStub(channel).predict(PredictRequest.newBuilder()
            .setModelSpec(ModelSpec.newBuilder().setName("hp"))
            .putInputs("x", TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).addFloatVal(1)
                .setTensorShape(TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(1)))
                .build()).build());
      } finally {
        channel.shutdownNow();
      }
      String scrape = server.get("/metrics").body();
      assertThat(server.get("/monitoring/prometheus/metrics").body()).contains("tensorflow_serving_request_count_total");

      Result lint = promtool(scrape, "check", "metrics");
      assertThat(lint.exitCode()).as(lint.output()).isZero();
      assertThat(lint.output()).isBlank();

      assertThat(scrape).contains(
          "tensorflow_serving_request_count_total{model_name=\"hp\",status=\"OK\"} 2.0",
          "tensorflow_serving_request_latency_bucket{API=\"predict\",entrypoint=\"GRPC\",model_name=\"hp\",le=",
          "tensorflow_serving_batching_session_queuing_latency_bucket{thread_pool_name=\"infergate-batch\",le=",
          "tensorflow_serving_batching_session_processed_batch_size_count",
          "infergate_request_latency_seconds_bucket{api=\"predict\",entrypoint=\"REST\",label=\"\",model=\"hp\",status=\"OK\",version=\"123\",le=\"0.05\"}",
          "infergate_eventloop_lag_seconds_count{thread=\"vert.x-eventloop-thread-",
          "jvm_memory_used_bytes{", "jvm_gc_", "vertx_pool_");
    }
  }

  @Test
  void requestMetricsCarryTheLabelOfTheVersionThatAnswered() throws Exception {
    Path config = Files.writeString(dir.resolve("models.config"), """
        model_config_list { config {
          name: "hp" base_path: "%s"
          model_version_policy { specific { versions: 123 } }
          version_labels { key: "stable" value: 123 }
        } }""".formatted(TestModels.tfServing("saved_model_half_plus_two_cpu")));
    try (TestServer server = TestServer.start("--rest_api_port=0", "--port=0", "--model_config_file=" + config)) {
      assertThat(server.post("/v1/models/hp/labels/stable:predict", "{\"instances\": [1.0]}").status()).isEqualTo(200);
      assertThat(server.post("/v1/models/hp:predict", "{\"instances\": [1.0]}").status()).isEqualTo(200);
      assertThat(server.get("/metrics").body()).contains("infergate_request_latency_seconds_count{api=\"predict\","
          + "entrypoint=\"REST\",label=\"stable\",model=\"hp\",status=\"OK\",version=\"123\"} 2");
    }
  }

  @Test
  void theAlertRulesPassPromtoolAndTheirUnitTests() throws Exception {
    Result check = promtool(null, "check", "rules", MONITORING.resolve("alerts.yml").toString());
    assertThat(check.exitCode()).as(check.output()).isZero();
    Result test = promtool(null, "test", "rules", MONITORING.resolve("alerts.test.yml").toString());
    assertThat(test.exitCode()).as(test.output()).isZero();
    assertThat(test.output()).contains("SUCCESS");
  }

  @Test
  void everyDashboardQueryIsValidPromQL() throws Exception {
    JsonObject dashboard = new JsonObject(Files.readString(MONITORING.resolve("grafana-dashboard.json")));
    List<String> exprs = new ArrayList<>();
    dashboard.getJsonArray("panels").forEach(panel -> ((JsonObject) panel).getJsonArray("targets", new JsonArray())
        .forEach(target -> exprs.add(((JsonObject) target).getString("expr"))));
    assertThat(exprs).hasSizeGreaterThan(15);
    // Each query as a recording rule, with Grafana's variables filled in, so promtool parses it.
    StringBuilder rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
    for (int i = 0; i < exprs.size(); i++) {
      String expr = exprs.get(i).replace("$__rate_interval", "1m").replace("$model", ".*");
      rules.append("      - record: dashboard:query_").append(i).append("\n        expr: '")
          .append(expr.replace("'", "''")).append("'\n");
    }
    Path file = Files.writeString(dir.resolve("dashboard-queries.yml"), rules);
    Result check = promtool(null, "check", "rules", file.toString());
    assertThat(check.exitCode()).as(check.output()).isZero();
  }

  @Test
  void readinessDropsDuringTheShutdownDrainWhileRequestsAreStillServed() throws Exception {
    try (TestServer server = TestServer.start("--rest_api_port=0", "--port=0", "--model_name=hp",
        "--model_base_path=" + TestModels.tfServing("saved_model_half_plus_two_cpu"), "--shutdown_drain_seconds=2")) {
      assertThat(server.get("/healthz").status()).isEqualTo(200);
      assertThat(server.get("/readyz").json()).isEqualTo(new JsonObject("{\"ready\": true}"));
      var closed = server.server.close();
      TestServer.Response ready = server.get("/readyz");
      assertThat(ready.status()).isEqualTo(503);
      assertThat(ready.json()).isEqualTo(new JsonObject("{\"ready\": false}"));
      assertThat(server.get("/v2/health/ready").status()).isEqualTo(503);
      assertThat(server.get("/healthz").status()).isEqualTo(200);
      assertThat(server.post("/v1/models/hp:predict", "{\"instances\": [1.0]}").body())
          .isEqualTo("{\"predictions\":[2.5]}");
      assertThat(closed.isComplete()).as("still draining").isFalse();
      TestServer.await(closed);
    }
  }

  record Result(int exitCode, String output) {}

  static Result promtool(String stdin, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("promtool"));
    command.addAll(List.of(args));
    Process process;
    try {
      process = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new IllegalStateException("promtool is missing: install Debian's prometheus package (.ci/run does)", e);
    }
    if (stdin != null) {
      process.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
    }
    process.getOutputStream().close();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Result(process.exitValue(), output);
  }

  static Path projectRoot() {
    return Path.of(System.getProperty("infergate.root", "..")).toAbsolutePath().normalize();
  }
}
