package io.infergate.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.infergate.app.demo.DemoCtrTrainer;
import io.infergate.app.demo.DemoFeatures;
import java.nio.file.Files;
import io.vertx.core.json.JsonArray;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * From training to deployment: the demo CTR model trains, exports two float versions and one with
 * int8 weights, and serves them, the int8 one beside the float one behind the demo's split.
 */
class DemoCtrTrainerTest {

  @TempDir
  Path dir;

  @Test
  void trainsExportsAndServesItsVersions() throws Exception {
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    Path basePath = new DemoCtrTrainer(7, 2, new PrintStream(log, true, StandardCharsets.UTF_8)).train(dir);
    String output = log.toString(StandardCharsets.UTF_8);
    assertThat(output).contains("epoch 1/2", "epoch 2/2", "Final: test log loss");
    double auc = Double.parseDouble(output.replaceAll("(?s).*Final: .*test AUC ([0-9.]+).*", "$1"));
    assertThat(auc).as("AUC of the trained model").isGreaterThan(0.85);
    // Version 3 is version 2 with int8 weights: about a quarter of the weights' bytes, the same ranking.
    assertThat(exportedAuc(output, 2)).isCloseTo(auc, within(1e-4));
    assertThat(exportedAuc(output, 3)).isCloseTo(auc, within(0.005));
    assertThat(weightBytes(output, 3)).isLessThan(weightBytes(output, 2) / 3);
    assertThat(Files.size(basePath.resolve("3/variables/variables.data-00000-of-00001")))
        .isLessThan(Files.size(basePath.resolve("2/variables/variables.data-00000-of-00001")) / 2);

    Path config = java.nio.file.Files.writeString(dir.resolve("ctr.config"),
        "model_config_list { config { name: \"ctr\" base_path: \"" + basePath + "\" model_version_policy { all {} } } }");
    try (TestServer server = TestServer.start("--rest_api_port=0", "--port=0", "--model_config_file=" + config)) {
      String user = "[0.5, -1.0, 0.2, 0.0, 1.0, 0.3, -0.2, 0.9]";
      double[] firstRow = new double[4];
      for (String version : new String[] {"1", "2", "3"}) {
        TestServer.Response response = server.post("/v1/models/ctr/versions/" + version + ":predict",
            "{\"instances\": [{\"user_features\": " + user + ", \"item_features\": " + user + "},"
                + "{\"user_features\": " + user + ", \"item_features\": [0, 0, 0, 0, 0, 0, 0, 0]}]}");
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        JsonArray predictions = response.json().getJsonArray("predictions");
        assertThat(predictions.size()).isEqualTo(2);
        predictions.forEach(p -> assertThat(((Number) p).doubleValue()).isBetween(0.0, 1.0));
        firstRow[Integer.parseInt(version)] = predictions.getDouble(0);
      }
      assertThat(firstRow[3]).as("int8 weights score as the float ones").isCloseTo(firstRow[2], within(0.02));
      assertThat(server.get("/v1/models/ctr").json().getJsonArray("model_version_status").size()).isEqualTo(3);
    }

    // The demo's deployment: versions 2 and 3 under their labels, requests naming none split by weight.
    Path demoConfig = Files.writeString(dir.resolve(DemoCommand.MODEL_CONFIG), DemoCommand.modelConfig(basePath));
    try (TestServer server = TestServer.start("--rest_api_port=0", "--port=0", "--model_config_file=" + demoConfig)) {
      TestServer.await(DemoCommand.splitTraffic(server.server, 30));
      Map<String, Integer> answeredBy = new TreeMap<>();
      String request = "{\"instances\": [{\"user_features\": [1, 0, 0, 0, 0, 0, 0, 0], \"item_features\": [0, 1, 0, 0, 0, 0, 0, 0]}]}";
      for (int i = 0; i < 200; i++) {
        var answer = TestServer.await(server.client().post(server.server.restPort(), "localhost", "/v1/models/ctr:predict")
            .sendBuffer(io.vertx.core.buffer.Buffer.buffer(request)));
        assertThat(answer.statusCode()).as(answer.bodyAsString()).isEqualTo(200);
        answeredBy.merge(answer.getHeader("x-model-version"), 1, Integer::sum);
      }
      assertThat(answeredBy.keySet()).containsExactly("2", "3");
      // 30 % of 200: 60 expected; 25-95 holds with a probability beyond 1 - 10^-9.
      assertThat(answeredBy.get("3")).isBetween(25, 95);
      assertThat(server.post("/v1/models/ctr/labels/int8:predict", request).status()).isEqualTo(200);
      assertThat(server.get("/v1/models/ctr/labels/int8").json().getJsonArray("model_version_status")
          .getJsonObject(0).getString("version")).isEqualTo("3");
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

  /** The trainer's line for an exported version: "exported DIR/ctr/V: int8 weights (N bytes), test AUC X as exported". */
  private static String exportLine(String output, int version) {
    return output.lines().filter(line -> line.startsWith("exported ") && line.contains("/ctr/" + version + ":"))
        .findFirst().orElseThrow(() -> new AssertionError("no export of version " + version + " in:\n" + output));
  }

  private static double exportedAuc(String output, int version) {
    return Double.parseDouble(exportLine(output, version).replaceAll(".*test AUC ([0-9.]+) as exported", "$1"));
  }

  private static long weightBytes(String output, int version) {
    return Long.parseLong(exportLine(output, version).replaceAll(".*weights \\(([0-9,]+) bytes\\).*", "$1").replace(",", ""));
  }
}
