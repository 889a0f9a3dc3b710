package io.infergate.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.infergate.common.cluster.ClusterOptions;
import io.infergate.worker.TestModels;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker's probes on a real cluster member, as Kubernetes asks them: live from the moment the
 * port opens, ready only once its models serve and while it is a member; metrics carry the
 * in-flight gauge an autoscaler reads.
 */
class WorkerProbesTest {

  @TempDir
  Path dir;

  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void readyOnlyWhileServingAsAMember() throws Exception {
    ClusterOptions cluster = new ClusterOptions("probes-" + UUID.randomUUID(), "127.0.0.1", 5861,
        List.of("127.0.0.1:5861"), "", "", false, 0, null, null);
    Path config = Files.writeString(dir.resolve("models.config"), """
        model_config_list { config { name: "hp" base_path: "%s" } }"""
        .formatted(TestModels.tfServing("saved_model_half_plus_two_2_versions")));
    var worker = TestServer.options("--model_config_file=" + config, "--rest_api_port=0", "--port=0").worker();
    ClusterNodes.Joined joined = TestServer.await(ClusterNodes.join(cluster, 2));
    AtomicReference<Node> node = new AtomicReference<>();
    int port = TestServer.await(WorkerMonitoring.listen(joined.vertx(), joined.prometheus(),
        () -> node.get() != null && node.get().workerReady(), "127.0.0.1", 0)).actualPort();
    try {
      assertThat(get(port, "/healthz")).isEqualTo("200 {\"live\": true}");
      assertThat(get(port, "/readyz")).as("models not loaded yet").isEqualTo("503 {\"ready\": false}");
      assertThat(get(port, "/nothing")).startsWith("404 {\"error\": ");
      assertThat(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz"))
          .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString()).statusCode())
          .isEqualTo(405);

      node.set(TestServer.await(joined.startNode(worker, null, 2)).node());
      assertThat(get(port, "/readyz")).isEqualTo("200 {\"ready\": true}");
      assertThat(get(port, "/metrics"))
          .contains("infergate_worker_requests_in_flight{model=\"hp\",version=\"124\"} 0.0")
          .contains("infergate_model_memory_bytes{model=\"hp\",version=\"124\"}")
          .contains("infergate_worker_memory_budget_bytes ", "infergate_worker_memory_used_bytes ");

      // Cut off from the cluster (its member gone), the worker must stop taking traffic.
      joined.hazelcast().getLifecycleService().terminate();
      assertThat(get(port, "/readyz")).isEqualTo("503 {\"ready\": false}");
      assertThat(get(port, "/healthz")).startsWith("200");
    } finally {
      if (node.get() != null) {
        TestServer.await(node.get().close());
      } else {
        TestServer.await(joined.vertx().close());
      }
    }
  }

  private String get(int port, String path) throws Exception {
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .build(), HttpResponse.BodyHandlers.ofString());
    return response.statusCode() + " " + response.body();
  }
}
