package io.infergate.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.infergate.worker.TestModels;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * TF Serving's REST API end to end: a real server on a model config file, real HTTP, TF
 * Serving's own test models and models exported here with TF Java.
 */
class RestApiTest {

  @TempDir
  static Path dir;

  static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    Path config = dir.resolve("models.config");
    Files.writeString(config, """
        model_config_list {
          config { name: "half_plus_two" base_path: "%s" model_platform: "tensorflow" }
          config { name: "half_plus_two_tf2" base_path: "%s" }
          config {
            name: "two_versions" base_path: "%s"
            model_version_policy { all {} }
            version_labels { key: "stable" value: 123 }
            version_labels { key: "canary" value: 124 }
          }
          config { name: "multi_io" base_path: "%s" }
          config { name: "typed" base_path: "%s" }
          config { name: "broken" base_path: "%s" }
        }
        """.formatted(
        TestModels.tfServing("saved_model_half_plus_two_cpu"),
        TestModels.tfServing("saved_model_half_plus_two_tf2_cpu"),
        TestModels.tfServing("saved_model_half_plus_two_2_versions"),
        TestModels.exportMultiIo(dir.resolve("multi_io")),
        TestModels.exportTyped(dir.resolve("typed")),
        TestModels.exportWithBrokenSignatures(dir.resolve("broken"))));
    server = TestServer.start("--rest_api_port=0", "--port=0", "--model_config_file=" + config,
        "--max_request_body_bytes=4096");
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  /** A model whose signatures partly disagree with its graph serves the others, as TF Serving does. */
  @Test
  void aModelWithBrokenSignaturesServesTheRestAndReportsThem() throws Exception {
    String row = "{\"a\": [1, 2], \"b\": [3, 4]}";
    TestServer.Response good = server.post("/v1/models/broken:predict", "{\"instances\": [" + row + "]}");
    assertThat(good.status()).as(good.body()).isEqualTo(200);
    assertThat(good.json().getJsonArray("predictions").getJsonObject(0).getDouble("dot")).isEqualTo(11.0);
    TestServer.Response bad = server.post("/v1/models/broken:predict",
        "{\"signature_name\": \"missing_tensor\", \"instances\": [" + row + "]}");
    assertThat(bad.status()).isEqualTo(400);
    assertThat(bad.json().getString("error")).contains("nope:0");
    JsonObject invalid = server.get("/v1/models/broken/metadata").json().getJsonObject("metadata")
        .getJsonObject("invalid_signatures");
    assertThat(invalid.fieldNames()).containsExactlyInAnyOrder("missing_tensor", "wrong_dtype");
    assertThat(invalid.getString("wrong_dtype")).contains("DT_INT32").contains("DT_FLOAT");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "/v1/models/half_plus_two:predict     | {\"instances\": [1.0, 2.0, 5.0]} | {\"predictions\":[2.5,3.0,4.5]}",
      "/v1/models/half_plus_two:predict     | {\"inputs\": [1.0, 2.0, 5.0]}    | {\"outputs\":[2.5,3.0,4.5]}",
      "/v1/models/half_plus_two_tf2:predict | {\"instances\": [1.0, 2.0, 5.0]} | {\"predictions\":[2.5,3.0,4.5]}",
      "/v1/models/half_plus_two:predict     | {\"instances\": [[1.0], [2.0]]}  | {\"predictions\":[[2.5],[3.0]]}",
      "/v1/models/half_plus_two:predict     | {\"instances\": [{\"x\": 4}], \"signature_name\": \"serving_default\"} | {\"predictions\":[4.0]}",
      "/V1/Models/half_plus_two:PREDICT     | {\"instances\": [0]}             | {\"predictions\":[2.0]}",
      "/v1/models/half_plus_two:regress     | {\"signature_name\": \"regress_x_to_y\", \"examples\": [{\"x\": 2.0}]} | {\"results\":[3.0]}",
      "/v1/models/half_plus_two:classify    | {\"signature_name\": \"classify_x_to_y\", \"examples\": [{\"x\": 2.0}]} | {\"results\":[[[\"\",3.0]]]}",
      "/v1/models/half_plus_two:regress     | {\"signature_name\": \"regress_x_to_y\", \"context\": {\"x\": 4.0}, \"examples\": [{}]} | {\"results\":[4.0]}",
      "/v1/models/half_plus_two:regress     | {\"signature_name\": \"regress_x_to_y\", \"examples\": [{\"x\": [6.0]}]} | {\"results\":[5.0]}",
  })
  void answersAsTensorFlowServingDoes(String path, String request, String expected) throws Exception {
    TestServer.Response response = server.post(path, request);
    assertThat(response.status()).as(response.body()).isEqualTo(200);
    assertThat(response.body()).isEqualTo(expected);
  }

  @Test
  void routesByVersionAndLabelFromTheConfigFile() throws Exception {
    assertThat(server.post("/v1/models/two_versions/versions/123:predict", "{\"instances\": [1]}").status()).isEqualTo(200);
    assertThat(server.post("/v1/models/two_versions/labels/canary:predict", "{\"instances\": [1]}").body())
        .isEqualTo("{\"predictions\":[2.5]}");

    JsonArray all = server.get("/v1/models/two_versions").json().getJsonArray("model_version_status");
    assertThat(all.stream().map(v -> ((JsonObject) v).getString("version"))).containsExactly("124", "123");
    assertThat(all.getJsonObject(0).getString("state")).isEqualTo("AVAILABLE");
    assertThat(all.getJsonObject(0).getJsonObject("status").getString("error_code")).isEqualTo("OK");

    JsonArray stable = server.get("/v1/models/two_versions/labels/stable").json().getJsonArray("model_version_status");
    assertThat(stable.size()).isEqualTo(1);
    assertThat(stable.getJsonObject(0).getString("version")).isEqualTo("123");
    assertThat(server.get("/v1/models/two_versions/versions/124").json()
        .getJsonArray("model_version_status").getJsonObject(0).getString("version")).isEqualTo("124");
  }

  @Test
  void describesSignaturesInMetadata() throws Exception {
    JsonObject metadata = server.get("/v1/models/two_versions/labels/stable/metadata").json();
    assertThat(metadata.getJsonObject("model_spec").getString("version")).isEqualTo("123");
    JsonObject signatures = metadata.getJsonObject("metadata").getJsonObject("signature_def").getJsonObject("signature_def");
    assertThat(signatures.fieldNames()).contains("serving_default", "regress_x_to_y", "classify_x_to_y");
    JsonObject x = signatures.getJsonObject("serving_default").getJsonObject("inputs").getJsonObject("x");
    assertThat(x.getString("dtype")).isEqualTo("DT_FLOAT");
    assertThat(signatures.getJsonObject("serving_default").getString("method_name")).isEqualTo("tensorflow/serving/predict");
    assertThat(server.get("/v1/models/half_plus_two/metadata").json()
        .getJsonObject("model_spec").getString("version")).isEqualTo("123");
  }

  @Test
  void servesMultiInputAndMultiOutputModelsInBothForms() throws Exception {
    assertThat(server.post("/v1/models/multi_io:predict",
        "{\"instances\": [{\"a\": [1, 2], \"b\": [3, 4]}, {\"a\": [0, 1], \"b\": [1, 1]}]}").json())
        .isEqualTo(new JsonObject("{\"predictions\": [{\"sum\": [4.0, 6.0], \"dot\": 11.0}, {\"sum\": [1.0, 2.0], \"dot\": 1.0}]}"));
    assertThat(server.post("/v1/models/multi_io:predict",
        "{\"inputs\": {\"a\": [[1, 2]], \"b\": [[3, 4]]}}").json())
        .isEqualTo(new JsonObject("{\"outputs\": {\"sum\": [[4.0, 6.0]], \"dot\": [11.0]}}"));
  }

  @Test
  void servesInt64StringBoolAndDoubleInputsWithBase64() throws Exception {
    JsonObject outputs = server.post("/v1/models/typed:predict", """
        {"inputs": {"ids": [9007199254740993, -5], "counts": [1, 2], "words": ["héllo", {"b64": "AAEC"}],
                    "flags": [true, false], "scale": [0.5, 1e300]}}""").json().getJsonObject("outputs");
    assertThat(outputs.getJsonArray("ids_plus_one").getLong(0)).isEqualTo(9007199254740994L);
    assertThat(outputs.getJsonArray("counts_doubled")).isEqualTo(new JsonArray("[2, 4]"));
    assertThat(outputs.getJsonArray("word_lengths")).isEqualTo(new JsonArray("[6, 3]"));
    assertThat(outputs.getJsonArray("echo_bytes")).isEqualTo(new JsonArray("[{\"b64\": \"aMOpbGxv\"}, {\"b64\": \"AAEC\"}]"));
    assertThat(outputs.getJsonArray("flags_not")).isEqualTo(new JsonArray("[false, true]"));
    assertThat(outputs.getJsonArray("scale_twice")).isEqualTo(new JsonArray("[1.0, 2.0E300]"));
  }

  @Test
  void acceptsAndReturnsNanAndInfinity() throws Exception {
    TestServer.Response response = server.post("/v1/models/half_plus_two:predict",
        "{\"instances\": [NaN, Infinity, -Infinity]}");
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("{\"predictions\":[NaN,Infinity,-Infinity]}");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "/v1/models/nope:predict                    | {\"instances\": [1]}                  | 404 | Servable not found for request: Latest(nope)",
      "/v1/models/half_plus_two/versions/7:predict | {\"instances\": [1]}                 | 404 | Servable not found for request: Specific(half_plus_two, 7)",
      "/v1/models/two_versions/labels/beta:predict | {\"instances\": [1]}                 | 404 | Unrecognized servable version label: beta",
      "/v1/models/half_plus_two:predict           | {\"instances\": [1.0,                | 400 | JSON Parse error",
      "/v1/models/half_plus_two:predict           | [1, 2]                               | 400 | must be a JSON object",
      "/v1/models/half_plus_two:predict           | {\"instances\": [1], \"inputs\": [1]} | 400 | not both",
      "/v1/models/half_plus_two:predict           | {\"signature\": 1}                   | 400 | Missing 'inputs' or 'instances' key",
      "/v1/models/half_plus_two:predict           | {\"inputs\": {\"z\": [1.0]}}          | 400 | input tensor alias not found in signature: z",
      "/v1/models/half_plus_two:predict           | {\"instances\": [\"a\", \"b\"]}       | 400 | The input expects DT_FLOAT but the JSON holds bytes values",
      "/v1/models/half_plus_two:predict           | {\"instances\": [[1.0], [2.0, 3.0]]} | 400 | The shape of every instance of the input must be the same: [1] vs [2]",
      "/v1/models/half_plus_two:predict           | {\"instances\": [[1.0], 2.0]}        | 400 | The shape of every instance of the input must be the same: [1] vs []",
      "/v1/models/half_plus_two:predict           | {\"instances\": [1], \"signature_name\": \"nope\"} | 400 | Serving signature key \"nope\" not found.",
      "/v1/models/half_plus_two:regress           | {\"examples\": [{\"x\": 1.0}]}       | 400 | Expected tensorflow/serving/regress signature method_name",
      "/v1/models/half_plus_two:classify          | {\"signature_name\": \"classify_x_to_y\"} | 400 | Missing 'examples' key",
      "/v1/models/multi_io:predict                | {\"instances\": [{\"a\": [1, 2]}]}   | 400 | Missing but required: [b]",
      "/v1/models/multi_io:predict                | {\"inputs\": {\"a\": [[1, 2, 3]], \"b\": [[1, 2]]}} | 400 | Incompatible shapes",
      "/v1/models/typed:predict                   | {\"inputs\": {\"ids\": [1.5], \"counts\": [1], \"words\": [\"a\"], \"flags\": [true], \"scale\": [1]}} | 400 | expects DT_INT64 but the JSON holds non-integer numbers",
      "/v1/models/half_plus_two:explain           | {\"instances\": [1]}                 | 404 | Malformed request: POST /v1/models/half_plus_two:explain",
  })
  void mapsEveryFailureToTheRightStatus(String path, String request, int status, String message) throws Exception {
    TestServer.Response response = server.post(path, request);
    assertThat(response.status()).as(response.body()).isEqualTo(status);
    assertThat(response.json().getString("error")).contains(message);
  }

  @Test
  void rejectsOversizedBodies() throws Exception {
    String big = "{\"instances\": [" + "1.0, ".repeat(2000) + "1.0]}";
    TestServer.Response response = server.post("/v1/models/half_plus_two:predict", big);
    assertThat(response.status()).isEqualTo(413);
    assertThat(response.json().getString("error")).contains("larger than the limit of 4096 bytes");
  }

  @Test
  void unknownModelStatusIsNotFound() throws Exception {
    TestServer.Response response = server.get("/v1/models/nope");
    assertThat(response.status()).isEqualTo(404);
    assertThat(server.get("/v1/models/half_plus_two/versions/9").status()).isEqualTo(404);
  }

  @Test
  void exportsRequestMetricsByModelVersionAndStatus() throws Exception {
    server.post("/v1/models/half_plus_two:predict", "{\"instances\": [1]}");
    server.post("/v1/models/not_a_model:predict", "{\"instances\": [1]}");
    String metrics = server.get("/monitoring/prometheus/metrics").body();
    assertThat(metrics).contains("infergate_request_latency_seconds_count{api=\"predict\",entrypoint=\"REST\","
        + "label=\"\",model=\"half_plus_two\",status=\"OK\",version=\"123\"}");
    assertThat(metrics).contains("infergate_request_latency_seconds_bucket{api=\"predict\",entrypoint=\"REST\","
        + "label=\"\",model=\"unknown\",status=\"NOT_FOUND\",version=\"unknown\",le=\"0.05\"}");
    assertThat(metrics).contains("tensorflow_serving_request_count_total{model_name=\"unknown\",status=\"NOT_FOUND\"}");
    assertThat(metrics).doesNotContain("not_a_model");
  }
}
