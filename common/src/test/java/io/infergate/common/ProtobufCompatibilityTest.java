package io.infergate.common;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Int64Value;
import com.google.protobuf.RuntimeVersion;
import com.google.protobuf.TextFormat;
import com.google.protobuf.util.JsonFormat;
import io.infergate.proto.serving.GetModelStatusResponse;
import io.infergate.proto.serving.ModelSpec;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.proto.serving.SignatureDefMap;
import io.infergate.proto.serving.StatusProto;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorProtos;
import org.tensorflow.proto.error.Code;

/**
 * One protobuf runtime serves TF Java's generated classes (made with protoc 3.21.9) and our
 * own messages (made with the pinned protoc); our messages link to TF Java's descriptors.
 */
class ProtobufCompatibilityTest {

  @Test
  void runsOnThePinnedProtobufRuntime() {
    assertThat(RuntimeVersion.MAJOR + "." + RuntimeVersion.MINOR + "." + RuntimeVersion.PATCH)
        .isEqualTo("4.29.3");
  }

  @Test
  void ourMessagesCarryTensorFlowsOwnTensorProto() throws Exception {
    TensorProto tensor = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
        .addFloatVal(1.5f).setTensorContent(ByteString.copyFromUtf8("raw")).build();
    PredictRequest request = PredictRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("m").setVersion(Int64Value.of(7)))
        .putInputs("x", tensor).build();

    PredictRequest parsed = PredictRequest.parseFrom(request.toByteArray());
    assertThat(parsed.getInputsOrThrow("x")).isEqualTo(tensor);
    assertThat(parsed.getInputsOrThrow("x")).isInstanceOf(org.tensorflow.proto.TensorProto.class);

    // The field's message type is TF Java's descriptor, not a copy of it.
    var field = PredictRequest.getDescriptor().findFieldByName("inputs").getMessageType().findFieldByName("value");
    assertThat(field.getMessageType()).isSameAs(TensorProto.getDescriptor());
    assertThat(field.getMessageType().getFile()).isSameAs(TensorProtos.getDescriptor());

    assertThat(TextFormat.parse(TextFormat.printer().printToString(request), PredictRequest.class)).isEqualTo(request);
  }

  @Test
  void printsTensorFlowMessagesAsProto3Json() throws Exception {
    SignatureDefMap signatures = SignatureDefMap.newBuilder().putSignatureDef("serving_default",
        SignatureDef.newBuilder().setMethodName("tensorflow/serving/predict")
            .putInputs("x", TensorInfo.newBuilder().setName("x:0").setDtype(DataType.DT_FLOAT).build()).build())
        .build();
    String json = JsonFormat.printer().preservingProtoFieldNames().print(signatures);
    assertThat(json).contains("\"method_name\": \"tensorflow/serving/predict\"", "\"dtype\": \"DT_FLOAT\"");

    GetModelStatusResponse.Builder status = GetModelStatusResponse.newBuilder();
    status.addModelVersionStatusBuilder().setVersion(3)
        .setStatus(StatusProto.newBuilder().setErrorCode(Code.NOT_FOUND));
    assertThat(JsonFormat.printer().preservingProtoFieldNames().print(status))
        .contains("\"version\": \"3\"", "\"error_code\": \"NOT_FOUND\"");
  }
}
