package io.infergate.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.infergate.app.demo.DemoCtrTrainer;
import io.infergate.app.demo.DemoFeatures;
import java.nio.file.Files;
import io.vertx.core.json.JsonArray;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** From training to deployment: the demo CTR model trains, exports two versions, and serves. */
class DemoCtrTrainerTest {

  @TempDir
  Path dir;

  @Test
  void trainsExportsAndServesTwoVersions() throws Exception {
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    Path basePath = new DemoCtrTrainer(7, 2, new PrintStream(log, true, StandardCharsets.UTF_8)).train(dir);
    String output = log.toString(StandardCharsets.UTF_8);
    assertThat(output).contains("epoch 1/2", "epoch 2/2", "Final: test log loss");
    double auc = Double.parseDouble(output.replaceAll("(?s).*Final: .*test AUC ([0-9.]+).*", "$1"));
    assertThat(auc).as("AUC of the trained model").isGreaterThan(0.85);

    Path config = java.nio.file.Files.writeString(dir.resolve("ctr.config"),
        "model_config_list { config { name: \"ctr\" base_path: \"" + basePath + "\" model_version_policy { all {} } } }");
    try (TestServer server = TestServer.start("--rest_api_port=0", "--port=0", "--model_config_file=" + config)) {
      String user = "[0.5, -1.0, 0.2, 0.0, 1.0, 0.3, -0.2, 0.9]";
      for (String version : new String[] {"1", "2"}) {
        TestServer.Response response = server.post("/v1/models/ctr/versions/" + version + ":predict",
            "{\"instances\": [{\"user_features\": " + user + ", \"item_features\": " + user + "},"
                + "{\"user_features\": " + user + ", \"item_features\": [0, 0, 0, 0, 0, 0, 0, 0]}]}");
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        JsonArray predictions = response.json().getJsonArray("predictions");
        assertThat(predictions.size()).isEqualTo(2);
        predictions.forEach(p -> assertThat(((Number) p).doubleValue()).isBetween(0.0, 1.0));
      }
      assertThat(server.get("/v1/models/ctr").json().getJsonArray("model_version_status").size()).isEqualTo(2);
    }

    // The demo's recommender path: ids in, features from the embedded Hazelcast map the demo fills.
    DemoFeatures.write(dir, 20, 20, 7);
    try (TestServer server = TestServer.start("--rest_api_port=0", "--port=0", "--model_name=ctr",
        "--model_base_path=" + basePath, "--feature_config_file=" + dir.resolve(DemoFeatures.HAZELCAST_CONFIG))) {
      TestServer.await(DemoCommand.loadDemoFeatures(server.server, dir));
      JsonArray byIds = server.post("/v1/models/ctr:predict",
          "{\"instances\": [{\"user_id\": \"u1\", \"item_id\": 7}]}").json().getJsonArray("predictions");
      String user = Files.readAllLines(dir.resolve("features/users.csv")).get(1).replaceFirst("^user:u1,", "");
      String item = Files.readAllLines(dir.resolve("features/items.jsonl")).get(6).replaceAll(".*\"vector\": (\\[.*]).*", "$1");
      JsonArray byValues = server.post("/v1/models/ctr:predict", "{\"instances\": [{\"user_features\": [" + user
          + "], \"item_features\": " + item + "}]}").json().getJsonArray("predictions");
      assertThat(byIds.getDouble(0)).isCloseTo(byValues.getDouble(0), org.assertj.core.data.Offset.offset(1e-6));
    }
  }
}
