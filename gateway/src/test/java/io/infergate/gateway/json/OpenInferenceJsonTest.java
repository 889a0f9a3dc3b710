package io.infergate.gateway.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.infergate.proto.serving.PredictRequest;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

class OpenInferenceJsonTest {

  @Test
  void readsTypedTensorsTheSignatureNameAndTheOutputsAsked() {
    OpenInferenceJson.InferRequest infer = parse("""
        {"id": "r1", "parameters": {"signature_name": "scores"},
         "inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 2], "data": [[1, 2], [3, 4]]},
                    {"name": "w", "datatype": "BYTES", "shape": [1], "data": ["hi"]}],
         "outputs": [{"name": "y"}]}""");
    PredictRequest request = infer.request().build();
    assertThat(infer.id()).isEqualTo("r1");
    assertThat(infer.signatureName()).isEqualTo("scores");
    assertThat(request.getOutputFilterList()).containsExactly("y");
    TensorProto x = request.getInputsOrThrow("x");
    assertThat(x.getDtype()).isEqualTo(DataType.DT_FLOAT);
    assertThat(x.getTensorShape().getDimList()).extracting(d -> d.getSize()).containsExactly(2L, 2L);
    assertThat(request.getInputsOrThrow("w").getStringVal(0).toStringUtf8()).isEqualTo("hi");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "{}                                                                                | non-empty 'inputs'",
      "{\"inputs\": []}                                                                  | non-empty 'inputs'",
      "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [3], \"data\": [1, 2]}]} | ''",
      "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP16\", \"shape\": [1], \"data\": [1]}]}    | ''",
      "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"INT32\", \"shape\": [1], \"data\": [\"a\"]}]} | ''",
      "[1, 2]                                                                            | ''",
  })
  void refusesMalformedRequestsWithInvalidArgument(String json, String message) {
    assertThatThrownBy(() -> parse(json)).isInstanceOfSatisfying(ServingException.class, e -> {
      assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
      assertThat(e.getMessage()).isNotBlank().contains(message);
    });
  }

  @Test
  void writesEachOutputWithItsTypeShapeAndFlatData() {
    byte[] json = OpenInferenceJson.write(io.infergate.proto.serving.PredictResponse.newBuilder()
        .putOutputs("y", PredictJsonTest.floats(new float[] {1.5f, 2.5f}, 2, 1)).build(), "r1");
    JsonObject answer = new JsonObject(new String(json, StandardCharsets.UTF_8));
    assertThat(answer.getString("id")).isEqualTo("r1");
    JsonObject y = answer.getJsonArray("outputs").getJsonObject(0);
    assertThat(y.getString("datatype")).isEqualTo("FP32");
    assertThat(y.getJsonArray("shape").getList()).containsExactly(2, 1);
    assertThat(y.getJsonArray("data").getList()).containsExactly(1.5, 2.5);
  }

  private static OpenInferenceJson.InferRequest parse(String json) {
    return OpenInferenceJson.parse(json.getBytes(StandardCharsets.UTF_8));
  }
}
