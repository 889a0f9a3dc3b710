package io.infergate.gateway.grpc;

import com.google.protobuf.ByteString;
import io.infergate.common.status.ServingException;
import io.infergate.gateway.protocol.OpenInferenceTypes;
import io.infergate.proto.oip.InferParameter;
import io.infergate.proto.oip.InferTensorContents;
import io.infergate.proto.oip.ModelInferRequest;
import io.infergate.proto.oip.ModelInferResponse;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.proto.serving.PredictResponse;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * ModelInfer ⇄ the internal PredictRequest/PredictResponse. Inputs come as typed contents or
 * as raw little-endian bytes (BYTES elements prefixed with their 4-byte length); outputs go
 * back raw, as Triton does.
 */
public final class OipTensors {

  static final String SIGNATURE_PARAMETER = "signature_name";
  static final String PRIORITY_PARAMETER = "priority";

  private OipTensors() {}

  public static PredictRequest toPredict(ModelInferRequest request) {
    boolean raw = request.getRawInputContentsCount() > 0;
    if (raw && request.getRawInputContentsCount() != request.getInputsCount()) {
      throw ServingException.invalidArgument("raw_input_contents must hold one entry per input ("
          + request.getInputsCount() + "), not " + request.getRawInputContentsCount());
    }
    PredictRequest.Builder predict = PredictRequest.newBuilder();
    for (int i = 0; i < request.getInputsCount(); i++) {
      ModelInferRequest.InferInputTensor input = request.getInputs(i);
      DataType dtype = OpenInferenceTypes.toDataType(input.getDatatype(), input.getName());
      TensorProto.Builder tensor = TensorProto.newBuilder().setDtype(dtype).setTensorShape(shape(input.getShapeList()));
      if (raw) {
        fromRaw(tensor, dtype, request.getRawInputContents(i), input.getName());
      } else {
        fromContents(tensor, dtype, input.getContents());
      }
      if (predict.containsInputs(input.getName())) {
        throw ServingException.invalidArgument("Input '" + input.getName() + "' is given more than once");
      }
      predict.putInputs(input.getName(), tensor.build());
    }
    request.getOutputsList().forEach(output -> predict.addOutputFilter(output.getName()));
    InferParameter signature = request.getParametersMap().get(SIGNATURE_PARAMETER);
    if (signature != null) {
      predict.getModelSpecBuilder().setSignatureName(signature.getStringParam());
    }
    return predict.build();
  }

  /** The "priority" parameter (a level, 1 highest, or a name) as text; null when the request has none. */
  public static String priority(ModelInferRequest request) {
    InferParameter priority = request.getParametersMap().get(PRIORITY_PARAMETER);
    if (priority == null) {
      return null;
    }
    return switch (priority.getParameterChoiceCase()) {
      case INT64_PARAM -> Long.toString(priority.getInt64Param());
      case UINT64_PARAM -> Long.toUnsignedString(priority.getUint64Param());
      case STRING_PARAM -> priority.getStringParam();
      default -> throw ServingException.invalidArgument("The 'priority' parameter must be an integer or a name");
    };
  }

  public static ModelInferResponse toInfer(PredictResponse response, String id) {
    ModelInferResponse.Builder infer = ModelInferResponse.newBuilder()
        .setModelName(response.getModelSpec().getName())
        .setModelVersion(Long.toString(response.getModelSpec().getVersion().getValue()))
        .setId(id);
    for (Map.Entry<String, TensorProto> output : response.getOutputsMap().entrySet()) {
      TensorProto tensor = output.getValue();
      ModelInferResponse.InferOutputTensor.Builder described = infer.addOutputsBuilder()
          .setName(output.getKey())
          .setDatatype(OpenInferenceTypes.toDatatype(tensor.getDtype()));
      tensor.getTensorShape().getDimList().forEach(dim -> described.addShape(dim.getSize()));
      infer.addRawOutputContents(rawBytes(tensor));
    }
    return infer.build();
  }

  private static void fromContents(TensorProto.Builder tensor, DataType dtype, InferTensorContents contents) {
    switch (dtype) {
      case DT_FLOAT -> tensor.addAllFloatVal(contents.getFp32ContentsList());
      case DT_DOUBLE -> tensor.addAllDoubleVal(contents.getFp64ContentsList());
      case DT_INT32 -> tensor.addAllIntVal(contents.getIntContentsList());
      case DT_INT64 -> tensor.addAllInt64Val(contents.getInt64ContentsList());
      case DT_BOOL -> tensor.addAllBoolVal(contents.getBoolContentsList());
      case DT_STRING -> tensor.addAllStringVal(contents.getBytesContentsList());
      default -> throw ServingException.invalidArgument("Unsupported dtype " + dtype);
    }
  }

  private static void fromRaw(TensorProto.Builder tensor, DataType dtype, ByteString raw, String name) {
    if (dtype != DataType.DT_STRING) {
      tensor.setTensorContent(raw);
      return;
    }
    ByteBuffer buffer = raw.asReadOnlyByteBuffer().slice().order(ByteOrder.LITTLE_ENDIAN);
    while (buffer.hasRemaining()) {
      if (buffer.remaining() < 4) {
        throw ServingException.invalidArgument("Raw BYTES input '" + name + "' ends inside a length prefix");
      }
      int length = buffer.getInt();
      if (length < 0 || length > buffer.remaining()) {
        throw ServingException.invalidArgument("Raw BYTES input '" + name + "' has an element longer than its data");
      }
      byte[] element = new byte[length];
      buffer.get(element);
      tensor.addStringVal(ByteString.copyFrom(element));
    }
  }

  /** The output's raw bytes: its tensor_content, or its strings each led by a 4-byte length. */
  private static ByteString rawBytes(TensorProto tensor) {
    if (tensor.getDtype() != DataType.DT_STRING) {
      if (tensor.getTensorContent().isEmpty() && tensor.getTensorShape().getDimList().stream().allMatch(d -> d.getSize() != 0)) {
        throw ServingException.invalidArgument("Output of dtype " + tensor.getDtype() + " carries no tensor_content");
      }
      return tensor.getTensorContent();
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (ByteString element : tensor.getStringValList()) {
      out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(element.size()).array());
      out.writeBytes(element.toByteArray());
    }
    return ByteString.copyFrom(out.toByteArray());
  }

  private static TensorShapeProto shape(Iterable<Long> dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (long dim : dims) {
      if (dim < 0) {
        throw ServingException.invalidArgument("Input shapes cannot have negative dimensions");
      }
      shape.addDimBuilder().setSize(dim);
    }
    return shape.build();
  }
}
