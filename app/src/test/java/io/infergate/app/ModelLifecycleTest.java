package io.infergate.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.infergate.proto.serving.ModelSpec;
import io.infergate.proto.serving.PredictLog;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.proto.serving.PredictionLog;
import io.infergate.worker.TestModels;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Model updates under sustained traffic, as TF Serving's manager does them: no request may
 * fail while versions, labels and models change, and the new state serves afterwards.
 */
class ModelLifecycleTest {

  static final Path TWO_VERSIONS = TestModels.tfServing("saved_model_half_plus_two_2_versions");
  static final String REQUEST = "{\"instances\": [1.0, 2.0]}";
  static final String ANSWER = "{\"predictions\":[2.5,3.0]}";
  static final long WAIT_MS = 30_000;

  @TempDir
  Path dir;

  @Test
  void aNewVersionFolderIsLoadedAndReplacesTheOldWithoutAFailedRequest() throws Exception {
    Path base = dir.resolve("hp");
    ModelFolders.publish(TWO_VERSIONS.resolve("00000123"), base, 123);
    try (TestServer server = TestServer.start("--rest_api_port=0", "--port=0", "--model_name=hp",
        "--model_base_path=" + base, "--file_system_poll_wait_seconds=1");
         Traffic traffic = Traffic.start(server, "/v1/models/hp:predict", REQUEST, ANSWER)) {
      traffic.awaitThen(() -> traffic.succeeded.get() > 20, WAIT_MS);
      ModelFolders.publish(TWO_VERSIONS.resolve("00000124"), base, 124);
      traffic.awaitThen(() -> versions(server, "hp").equals(List.of("124:AVAILABLE")), WAIT_MS);
      traffic.close();
      assertThat(traffic.failures).isEmpty();
      assertThat(traffic.versions).containsExactlyInAnyOrder("123", "124");
      assertThat(traffic.lastVersion).isEqualTo("124");
    }
  }

  @Test
  void aConfigReloadMovesALabelWithoutAFailedRequest() throws Exception {
    Path config = dir.resolve("models.config");
    String template = """
        model_config_list { config { name: "hp" base_path: "%s" model_version_policy { all {} }
          version_labels { key: "stable" value: %d } } }""";
    Files.writeString(config, template.formatted(TWO_VERSIONS, 123));
    try (TestServer server = TestServer.start("--rest_api_port=0", "--port=0", "--model_config_file=" + config,
        "--model_config_file_poll_wait_seconds=1");
         Traffic traffic = Traffic.start(server, "/v1/models/hp/labels/stable:predict", REQUEST, ANSWER)) {
      traffic.awaitThen(() -> traffic.succeeded.get() > 20, WAIT_MS);
      assertThat(traffic.versions).containsExactly("123");
      ModelFolders.replace(config, template.formatted(TWO_VERSIONS, 124));
      traffic.awaitThen(() -> "124".equals(traffic.lastVersion), WAIT_MS);
      traffic.close();
      assertThat(traffic.failures).isEmpty();
      assertThat(server.get("/v1/models/hp/labels/stable").json().getJsonArray("model_version_status")
          .getJsonObject(0).getString("version")).isEqualTo("124");
    }
  }

  @Test
  void aConfigReloadRemovesAModelWhileOthersServeWithoutAFailedRequest() throws Exception {
    Path config = dir.resolve("models.config");
    String hp = "config { name: \"hp\" base_path: \"" + TWO_VERSIONS + "\" }";
    String other = "config { name: \"other\" base_path: \"" + TestModels.tfServing("saved_model_half_plus_two_cpu") + "\" }";
    Files.writeString(config, "model_config_list { " + hp + " " + other + " }");
    try (TestServer server = TestServer.start("--rest_api_port=0", "--port=0", "--model_config_file=" + config,
        "--model_config_file_poll_wait_seconds=1");
         Traffic traffic = Traffic.start(server, "/v1/models/hp:predict", REQUEST, ANSWER)) {
      assertThat(server.post("/v1/models/other:predict", REQUEST).status()).isEqualTo(200);
      ModelFolders.replace(config, "model_config_list { " + hp + " }");
      traffic.awaitThen(() -> status(server, "/v1/models/other") == 404, WAIT_MS);
      traffic.close();
      assertThat(traffic.failures).isEmpty();
      assertThat(server.post("/v1/models/other:predict", REQUEST).status()).isEqualTo(404);
      assertThat(server.get("/v2/health/ready").status()).isEqualTo(200);
    }
  }

  @Test
  void aCorruptNewVersionNeverTakesDownTheVersionThatServes() throws Exception {
    Path base = dir.resolve("hp");
    ModelFolders.publish(TWO_VERSIONS.resolve("00000123"), base, 123);
    Path corrupt = dir.resolve("corrupt");
    Files.createDirectories(corrupt.resolve("variables"));
    Files.write(corrupt.resolve("saved_model.pb"), new byte[] {1, 2, 3, 4, 5});
    try (TestServer server = TestServer.start("--rest_api_port=0", "--port=0", "--model_name=hp",
        "--model_base_path=" + base, "--file_system_poll_wait_seconds=1", "--max_num_load_retries=1",
        "--load_retry_interval_micros=1000");
         Traffic traffic = Traffic.start(server, "/v1/models/hp:predict", REQUEST, ANSWER)) {
      ModelFolders.publish(corrupt, base, 124);
      traffic.awaitThen(() -> versions(server, "hp").contains("124:END"), WAIT_MS);
      traffic.close();
      assertThat(traffic.failures).isEmpty();
      assertThat(traffic.versions).containsExactly("123");
      JsonArray statuses = server.get("/v1/models/hp").json().getJsonArray("model_version_status");
      JsonObject failed = statuses.getJsonObject(0);
      assertThat(failed.getString("version")).isEqualTo("124");
      assertThat(failed.getJsonObject("status").getString("error_code")).isEqualTo("FAILED_PRECONDITION");
      assertThat(failed.getJsonObject("status").getString("error_message")).contains("Failed to load SavedModel");
      assertThat(statuses.getJsonObject(1).getString("state")).isEqualTo("AVAILABLE");
    }
  }

  @Test
  void replaysWarmupRecordsBeforeServingAndFailsTheLoadOnABadOne() throws Exception {
    Path good = dir.resolve("good");
    Path bad = dir.resolve("bad");
    ModelFolders.publish(TWO_VERSIONS.resolve("00000123"), good, 123);
    ModelFolders.publish(TWO_VERSIONS.resolve("00000123"), bad, 123);
    ModelFolders.writeTfRecords(good.resolve("123/assets.extra/tf_serving_warmup_requests"),
        List.of(warmupRecord("x"), warmupRecord("x")));
    ModelFolders.writeTfRecords(bad.resolve("123/assets.extra/tf_serving_warmup_requests"),
        List.of(warmupRecord("x"), warmupRecord("not_an_input")));
    Path config = Files.writeString(dir.resolve("models.config"), "model_config_list { config { name: \"good\" base_path: \""
        + good + "\" } config { name: \"bad\" base_path: \"" + bad + "\" } }");
    try (TestServer server = TestServer.start("--rest_api_port=0", "--port=0", "--model_config_file=" + config,
        "--max_num_load_retries=0")) {
      assertThat(versions(server, "good")).containsExactly("123:AVAILABLE");
      JsonObject failed = server.get("/v1/models/bad").json().getJsonArray("model_version_status").getJsonObject(0);
      assertThat(failed.getString("state")).isEqualTo("END");
      assertThat(failed.getJsonObject("status").getString("error_message")).contains("not_an_input");
      assertThat(server.get("/v2/health/ready").status())
          .as("a model that failed for good does not keep the server, and its other models, out of service")
          .isEqualTo(200);
      TestServer.Response refused = server.post("/v1/models/bad:predict", "{\"instances\": [1.0]}");
      assertThat(refused.status()).as("as TF Serving answers: " + refused.body()).isEqualTo(404);
      assertThat(refused.json().getString("error")).isEqualTo("Servable not found for request: Latest(bad)");
    }
  }

  static byte[] warmupRecord(String input) {
    TensorProto x = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
        .setTensorShape(TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(1)))
        .addFloatVal(1.0f).build();
    return PredictionLog.newBuilder().setPredictLog(PredictLog.newBuilder().setRequest(PredictRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("hp")).putInputs(input, x))).build().toByteArray();
  }

  /** "version:STATE" of each version the status API reports, newest first. */
  static List<String> versions(TestServer server, String model) {
    try {
      TestServer.Response response = server.get("/v1/models/" + model);
      if (response.status() != 200) {
        return List.of();
      }
      return response.json().getJsonArray("model_version_status").stream()
          .map(v -> ((JsonObject) v).getString("version") + ":" + ((JsonObject) v).getString("state")).toList();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static int status(TestServer server, String path) {
    try {
      return server.get(path).status();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
