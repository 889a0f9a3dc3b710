package io.infergate.gateway.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.infergate.common.status.ServingException;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.proto.serving.PredictResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorProto;

/** The JSON ⇄ tensor mapping of predict bodies, without a server. */
class PredictJsonTest {

  static final SignatureDef ONE_FLOAT = signature("x", DataType.DT_FLOAT);
  static final SignatureDef TWO_INPUTS = SignatureDef.newBuilder()
      .putInputs("a", TensorInfo.newBuilder().setDtype(DataType.DT_INT64).build())
      .putInputs("s", TensorInfo.newBuilder().setDtype(DataType.DT_STRING).build()).build();

  @ParameterizedTest(name = "{0} has shape {1}")
  @CsvSource(delimiter = '|', value = {
      "{\"instances\": [1, 2, 3]}                  | 3",
      "{\"instances\": [[1, 2], [3, 4], [5, 6]]}   | 3 2",
      "{\"instances\": [[[1], [2]]]}               | 1 2 1",
      "{\"inputs\": 7}                             | ''",
      "{\"inputs\": [[1, 2, 3]]}                   | 1 3",
      "{\"inputs\": [[], []]}                      | 2 0",
      "{\"inputs\": {\"x\": [[1], [2]]}}           | 2 1",
      "{\"instances\": [{\"x\": [1, 2]}]}          | 1 2",
  })
  void infersShapesFromNesting(String json, String shape) {
    TensorProto x = decode(json, ONE_FLOAT).getInputsOrThrow("x");
    long[] expected = Arrays.stream(shape.trim().split("\\s+")).filter(s -> !s.isEmpty()).mapToLong(Long::parseLong).toArray();
    assertThat(x.getTensorShape().getDimList().stream().mapToLong(d -> d.getSize()).toArray()).isEqualTo(expected);
  }

  @Test
  void typesValuesByTheSignatureEvenWhenItIsNamedLast() {
    PredictRequest request = decode("{\"instances\": [{\"a\": 9007199254740993, \"s\": {\"b64\": \"AQI=\"}},"
        + " {\"a\": -1, \"s\": \"text\"}], \"signature_name\": \"\"}", TWO_INPUTS);
    ByteBuffer a = request.getInputsOrThrow("a").getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    assertThat(a.getLong()).isEqualTo(9007199254740993L);
    assertThat(a.getLong()).isEqualTo(-1L);
    assertThat(request.getInputsOrThrow("s").getStringVal(0).toByteArray()).containsExactly(1, 2);
    assertThat(request.getInputsOrThrow("s").getStringVal(1).toStringUtf8()).isEqualTo("text");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "{\"instances\": [[1, [2]]]}                         | ragged",
      "{\"instances\": [[1, 2], [3]]}                      | must be the same",
      "{\"instances\": [1, \"a\"]}                         | mixes JSON value types",
      "{\"instances\": [null]}                             | unsupported JSON value",
      "{\"instances\": [{\"b64\": \"%%%\"}]}               | invalid base64",
      "{\"instances\": []}                                 | empty list",
      "{\"instances\": {\"x\": 1}}                         | must be a JSON list",
      "{\"instances\": [1], \"signature_name\": 3}         | must be a string",
  })
  void rejectsMalformedTensors(String json, String message) {
    assertThatThrownBy(() -> decode(json, ONE_FLOAT)).isInstanceOf(ServingException.class).hasMessageContaining(message);
  }

  @Test
  void readsBinaryValuesGivenAsBase64() {
    PredictRequest request = decode("{\"instances\": [{\"b64\": \"aGk=\"}, \"plain\"]}",
        signature("x", DataType.DT_STRING));
    TensorProto x = request.getInputsOrThrow("x");
    assertThat(x.getStringValList()).extracting(ByteString::toStringUtf8).containsExactly("hi", "plain");
  }

  @Test
  void aRowRequestMustGiveEveryInputInEveryInstance() {
    assertThatThrownBy(() -> decode("{\"instances\": [{\"a\": 1, \"s\": \"x\"}, {\"a\": 2}]}", TWO_INPUTS))
        .hasMessageContaining("Every instance must hold every named input");
  }

  @Test
  void writesRowsPerInstanceAndColumnsPerOutput() {
    TensorProto y = floats(new float[] {1.5f, 2.5f, 3.5f, 4.5f}, 2, 2);
    TensorProto ids = TensorProto.newBuilder().setDtype(DataType.DT_INT64)
        .setTensorShape(JsonTensorBuilder.shapeProto(new long[] {2})).addInt64Val(7).addInt64Val(8).build();
    PredictResponse response = PredictResponse.newBuilder().putOutputs("y", y).putOutputs("ids", ids).build();
    String rows = new String(PredictJson.write(response, true), StandardCharsets.UTF_8);
    assertThat(rows).isIn("{\"predictions\":[{\"y\":[1.5,2.5],\"ids\":7},{\"y\":[3.5,4.5],\"ids\":8}]}",
        "{\"predictions\":[{\"ids\":7,\"y\":[1.5,2.5]},{\"ids\":8,\"y\":[3.5,4.5]}]}");
    String columns = new String(PredictJson.write(PredictResponse.newBuilder().putOutputs("y", y).build(), false),
        StandardCharsets.UTF_8);
    assertThat(columns).isEqualTo("{\"outputs\":[[1.5,2.5],[3.5,4.5]]}");
  }

  @Test
  void writesTensorsWhoseContentIsASliceOfALargerBuffer() {
    TensorProto whole = floats(new float[] {1, 2, 3, 4}, 4);
    TensorProto lastTwo = whole.toBuilder().setTensorShape(JsonTensorBuilder.shapeProto(new long[] {2}))
        .setTensorContent(whole.getTensorContent().substring(8, 16)).build();
    assertThat(new String(PredictJson.write(PredictResponse.newBuilder().putOutputs("y", lastTwo).build(), true),
        StandardCharsets.UTF_8)).isEqualTo("{\"predictions\":[3.0,4.0]}");
  }

  @Test
  void refusesRowsWhenOutputsDisagreeOnTheBatchSize() {
    PredictResponse response = PredictResponse.newBuilder()
        .putOutputs("a", floats(new float[] {1, 2}, 2)).putOutputs("b", floats(new float[] {1}, 1)).build();
    assertThatThrownBy(() -> PredictJson.write(response, true)).hasMessageContaining("different batch sizes");
  }

  static PredictRequest decode(String json, SignatureDef signature) {
    PredictRequest.Builder request = PredictRequest.newBuilder();
    PredictJson.parse(json.getBytes(StandardCharsets.UTF_8)).putInto(request, () -> signature);
    return request.build();
  }

  static SignatureDef signature(String input, DataType dtype) {
    return SignatureDef.newBuilder().putInputs(input, TensorInfo.newBuilder().setDtype(dtype).build()).build();
  }

  static TensorProto floats(float[] values, long... dims) {
    ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      bytes.putFloat(v);
    }
    return TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).setTensorShape(JsonTensorBuilder.shapeProto(dims))
        .setTensorContent(com.google.protobuf.ByteString.copyFrom(bytes.array())).build();
  }
}
