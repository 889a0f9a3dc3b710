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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Dynamic batching switched on from the command line, through real HTTP. */
class BatchingServerTest {

  @TempDir
  Path dir;

  @Test
  void answersConcurrentRequestsCorrectlyThroughBatches() throws Exception {
    Path parameters = Files.writeString(dir.resolve("batching.config"), """
        max_batch_size { value: 32 } batch_timeout_micros { value: 2000 }
        max_enqueued_batches { value: 100 } num_batch_threads { value: 2 }
        allowed_batch_sizes: 8 allowed_batch_sizes: 32""");
    try (TestServer server = TestServer.start("--rest_api_port=0", "--port=0", "--model_name=hp",
        "--model_base_path=" + TestModels.tfServing("saved_model_half_plus_two_cpu"),
        "--enable_batching", "--batching_parameters_file=" + parameters)) {
      List<Future<String>> answers = new ArrayList<>();
      for (int i = 0; i < 300; i++) {
        String body = "{\"instances\": [" + i + ".0, " + (i + 1) + ".0]}";
        answers.add(server.sendAsync(HttpMethod.POST, "/v1/models/hp:predict", Buffer.buffer(body))
            .map(response -> response.statusCode() + " " + response.bodyAsString()));
      }
      for (int i = 0; i < answers.size(); i++) {
        assertThat(TestServer.await(answers.get(i)))
            .isEqualTo("200 {\"predictions\":[" + (0.5f * i + 2) + "," + (0.5f * (i + 1) + 2) + "]}");
      }
      String metrics = server.get("/monitoring/prometheus/metrics").body();
      assertThat(metrics).contains("infergate_batch_inferences_total{model=\"hp\",version=\"123\"} 300.0");
      assertThat(metrics).contains("infergate_batch_size_bucket{model=\"hp\",version=\"123\",le=\"32.0\"}");
      assertThat(metrics).contains("infergate_batch_queue_wait_seconds_count{model=\"hp\",version=\"123\"}");
      assertThat(metrics).contains("infergate_model_state{model=\"hp\",version=\"123\"} 30.0");
      assertThat(metrics).contains("infergate_model_load_seconds_count{model=\"hp\",outcome=\"success\",version=\"123\"} 1");
    }
  }

  @Test
  void aVersionsOwnBatchingParametersWinWhenEnabled() throws Exception {
    Path base = dir.resolve("hp");
    ModelFolders.publish(TestModels.tfServing("saved_model_half_plus_two_cpu").resolve("00000123"), base, 7);
    Files.writeString(base.resolve("7/batching_params.pbtxt"), "max_batch_size { value: 1 }");
    try (TestServer server = TestServer.start("--rest_api_port=0", "--port=0", "--model_name=hp",
        "--model_base_path=" + base, "--enable_batching", "--enable_per_model_batching_parameters")) {
      assertThat(server.post("/v1/models/hp:predict", "{\"instances\": [1.0]}").body())
          .isEqualTo("{\"predictions\":[2.5]}");
      TestServer.Response tooLarge = server.post("/v1/models/hp:predict", "{\"instances\": [1.0, 2.0]}");
      assertThat(tooLarge.status()).isEqualTo(400);
      assertThat(tooLarge.json().getString("error")).contains("Task size 2 is larger than maximum batch size 1");
    }
  }
}
