package io.infergate.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.infergate.worker.TestModels;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The Open Inference Protocol (KServe v2) REST API against a running server. */
class OpenInferenceApiTest {

  @TempDir
  static Path dir;

  static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start("--rest_api_port=0", "--port=0", "--model_name=half_plus_two",
        "--model_base_path=" + TestModels.tfServing("saved_model_half_plus_two_cpu"));
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void reportsServerHealthAndMetadata() throws Exception {
    assertThat(server.get("/v2/health/live").json()).isEqualTo(new JsonObject().put("live", true));
    TestServer.Response ready = server.get("/v2/health/ready");
    assertThat(ready.status()).isEqualTo(200);
    assertThat(ready.json()).isEqualTo(new JsonObject().put("ready", true));
    JsonObject metadata = server.get("/v2").json();
    assertThat(metadata.getString("name")).isEqualTo("infergate");
    assertThat(metadata.getJsonArray("extensions")).isEmpty();
  }

  @Test
  void describesModelsAndTheirReadiness() throws Exception {
    assertThat(server.get("/v2/models/half_plus_two").json()).isEqualTo(new JsonObject("""
        {"name": "half_plus_two", "versions": ["123"], "platform": "tensorflow_savedmodel",
         "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 1]}],
         "outputs": [{"name": "y", "datatype": "FP32", "shape": [-1, 1]}]}"""));
    assertThat(server.get("/v2/models/half_plus_two/versions/123/ready").json())
        .isEqualTo(new JsonObject("{\"name\": \"half_plus_two\", \"version\": \"123\", \"ready\": true}"));
    TestServer.Response absent = server.get("/v2/models/half_plus_two/versions/5/ready");
    assertThat(absent.status()).isEqualTo(503);
    assertThat(absent.json().getBoolean("ready")).isFalse();
    assertThat(server.get("/v2/models/nope/ready").status()).isEqualTo(404);
  }

  @Test
  void infersWithFlatOrNestedDataAndNamesTheVersion() throws Exception {
    JsonObject flat = server.post("/v2/models/half_plus_two/infer", """
        {"id": "req-1", "inputs": [{"name": "x", "shape": [3, 1], "datatype": "FP32", "data": [1, 2, 5]}],
         "outputs": [{"name": "y"}]}""").json();
    assertThat(flat).isEqualTo(new JsonObject("""
        {"model_name": "half_plus_two", "model_version": "123", "id": "req-1",
         "outputs": [{"name": "y", "datatype": "FP32", "shape": [3, 1], "data": [2.5, 3.0, 4.5]}]}"""));
    JsonArray nested = server.post("/v2/models/half_plus_two/versions/123/infer", """
        {"inputs": [{"name": "x", "shape": [2, 1], "datatype": "FP32", "data": [[1], [2]]}]}""")
        .json().getJsonArray("outputs").getJsonObject(0).getJsonArray("data");
    assertThat(nested).isEqualTo(new JsonArray("[2.5, 3.0]"));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "/v2/models/nope/infer          | {\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [1]}]} | 404 | Servable not found",
      "/v2/models/half_plus_two/infer | {\"inputs\": [{\"name\": \"x\", \"shape\": [2], \"datatype\": \"FP32\", \"data\": [1]}]} | 400 | has shape [2] (2 elements) but its data holds 1",
      "/v2/models/half_plus_two/infer | {\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP16\", \"data\": [1]}]} | 400 | supported are FP32",
      "/v2/models/half_plus_two/infer | {\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"INT64\", \"data\": [1]}]} | 400 | expects DT_FLOAT but got DT_INT64",
      "/v2/models/half_plus_two/infer | {\"inputs\": []}                                                                       | 400 | non-empty 'inputs'",
      "/v2/models/half_plus_two/infer | {\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [1]}], \"outputs\": [{\"name\": \"z\"}]} | 400 | output tensor alias not found",
  })
  void mapsFailuresToStatuses(String path, String body, int status, String message) throws Exception {
    TestServer.Response response = server.post(path, body);
    assertThat(response.status()).as(response.body()).isEqualTo(status);
    assertThat(response.json().getString("error")).contains(message);
  }
}
