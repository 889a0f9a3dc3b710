package io.infergate.gateway.readiness;

import com.google.protobuf.ByteString;
import com.google.protobuf.MessageLite;
import io.infergate.common.SyntheticInputs;
import io.infergate.gateway.protocol.OpenInferenceTypes;
import io.infergate.proto.oip.InferTensorContents;
import io.infergate.proto.oip.ModelInferRequest;
import io.infergate.proto.serving.ModelSpec;
import io.infergate.proto.serving.PredictRequest;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * The warm-up's requests for one model, made up from its signature: each protocol the gateway
 * speaks, and for a model with online features both a request that names entities (the features
 * are fetched) and one that supplies every input itself (the model runs whatever the store holds).
 * The entities are made up too, so the store usually has none of them: that still takes the whole
 * way through the store and back.
 */
final class WarmupCalls {

  private WarmupCalls() {}

  /**
   * @param inputs the signature's inputs, made up
   * @param fetched the inputs the feature store supplies, and the entity fields their keys need
   */
  static List<WarmupCall> of(String model, List<SyntheticInputs.Input> inputs, Set<String> fetched,
                             Set<String> entityFields) {
    List<WarmupCall> calls = new ArrayList<>(forInputs(model, inputs, Set.of()));
    if (!entityFields.isEmpty()) {
      List<SyntheticInputs.Input> own = inputs.stream().filter(input -> !fetched.contains(input.name())).toList();
      calls.addAll(forInputs(model, own, entityFields));
    }
    return calls;
  }

  private static List<WarmupCall> forInputs(String model, List<SyntheticInputs.Input> inputs, Set<String> entityFields) {
    return List.of(
        new WarmupCall(model, "rest_predict", false, "/v1/models/" + model + ":predict",
            n -> restPredict(inputs, entityFields, n)),
        new WarmupCall(model, "rest_infer", false, "/v2/models/" + model + "/infer",
            n -> restInfer(inputs, entityFields, n)),
        new WarmupCall(model, "grpc_predict", true, "/tensorflow.serving.PredictionService/Predict",
            n -> grpcFrame(grpcPredict(model, inputs, entityFields, n))),
        new WarmupCall(model, "grpc_infer", true, "/inference.GRPCInferenceService/ModelInfer",
            n -> grpcFrame(grpcInfer(model, inputs, entityFields, n))));
  }

  /** The entity id of request {@code n}: made up, and new for every request. */
  private static String entity(int n) {
    return "infergate-warmup-" + n;
  }

  /** The value of element {@code index} of request {@code n}: zeros but for a first float that differs. */
  private static Object value(DataType dtype, long index, int n) {
    return switch (dtype) {
      case DT_FLOAT, DT_DOUBLE -> index == 0 ? n * 1e-6 : 0.0;
      case DT_BOOL -> false;
      case DT_STRING -> "";
      default -> 0;
    };
  }

  /** TF Serving's columnar JSON: each input a nested list of its shape. */
  private static Buffer restPredict(List<SyntheticInputs.Input> inputs, Set<String> entityFields, int n) {
    JsonObject columns = new JsonObject();
    for (SyntheticInputs.Input input : inputs) {
      columns.put(input.name(), nested(input, 0, new long[] {0}, n));
    }
    entityFields.forEach(field -> columns.put(field, new JsonArray().add(entity(n))));
    return new JsonObject().put("inputs", columns).toBuffer();
  }

  private static Object nested(SyntheticInputs.Input input, int dim, long[] next, int n) {
    if (dim == input.shape().length) {
      return value(input.dtype(), next[0]++, n);
    }
    JsonArray list = new JsonArray();
    for (long i = 0; i < input.shape()[dim]; i++) {
      list.add(nested(input, dim + 1, next, n));
    }
    return list;
  }

  /** The Open Inference Protocol's JSON: each input's shape, datatype and flat data. */
  private static Buffer restInfer(List<SyntheticInputs.Input> inputs, Set<String> entityFields, int n) {
    JsonArray tensors = new JsonArray();
    for (SyntheticInputs.Input input : inputs) {
      JsonArray data = new JsonArray();
      for (long i = 0; i < input.elements(); i++) {
        data.add(value(input.dtype(), i, n));
      }
      JsonArray shape = new JsonArray();
      for (long dim : input.shape()) {
        shape.add(dim);
      }
      tensors.add(new JsonObject().put("name", input.name()).put("shape", shape)
          .put("datatype", OpenInferenceTypes.toDatatype(input.dtype())).put("data", data));
    }
    entityFields.forEach(field -> tensors.add(new JsonObject().put("name", field).put("shape", new JsonArray().add(1))
        .put("datatype", "BYTES").put("data", new JsonArray().add(entity(n)))));
    return new JsonObject().put("inputs", tensors).toBuffer();
  }

  private static PredictRequest grpcPredict(String model, List<SyntheticInputs.Input> inputs, Set<String> entityFields,
                                            int n) {
    PredictRequest.Builder request = PredictRequest.newBuilder().setModelSpec(ModelSpec.newBuilder().setName(model));
    for (SyntheticInputs.Input input : inputs) {
      TensorProto zeros = input.zeros();
      boolean floats = input.dtype() == DataType.DT_FLOAT && input.elements() > 0;
      // A float tensor of its full length, so the first value can differ from request to request.
      request.putInputs(input.name(), !floats ? zeros : zeros.toBuilder().clearFloatVal()
          .addAllFloatVal(floats(input.elements(), n)).build());
    }
    for (String field : entityFields) {
      request.putInputs(field, TensorProto.newBuilder().setDtype(DataType.DT_STRING)
          .setTensorShape(TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(1)))
          .addStringVal(ByteString.copyFromUtf8(entity(n))).build());
    }
    return request.build();
  }

  private static List<Float> floats(long elements, int n) {
    List<Float> values = new ArrayList<>(Collections.nCopies((int) elements, 0f));
    values.set(0, n * 1e-6f);
    return values;
  }

  private static ModelInferRequest grpcInfer(String model, List<SyntheticInputs.Input> inputs, Set<String> entityFields,
                                             int n) {
    ModelInferRequest.Builder request = ModelInferRequest.newBuilder().setModelName(model);
    for (SyntheticInputs.Input input : inputs) {
      InferTensorContents.Builder contents = InferTensorContents.newBuilder();
      int elements = (int) input.elements();
      switch (input.dtype()) {
        case DT_FLOAT -> contents.addAllFp32Contents(elements == 0 ? List.of() : floats(elements, n));
        case DT_DOUBLE -> contents.addAllFp64Contents(Collections.nCopies(elements, 0.0));
        case DT_INT32 -> contents.addAllIntContents(Collections.nCopies(elements, 0));
        case DT_INT64 -> contents.addAllInt64Contents(Collections.nCopies(elements, 0L));
        case DT_BOOL -> contents.addAllBoolContents(Collections.nCopies(elements, false));
        default -> contents.addAllBytesContents(Collections.nCopies(elements, ByteString.EMPTY));
      }
      ModelInferRequest.InferInputTensor.Builder tensor = request.addInputsBuilder().setName(input.name())
          .setDatatype(OpenInferenceTypes.toDatatype(input.dtype())).setContents(contents);
      for (long dim : input.shape()) {
        tensor.addShape(dim);
      }
    }
    for (String field : entityFields) {
      request.addInputsBuilder().setName(field).setDatatype("BYTES").addShape(1)
          .setContents(InferTensorContents.newBuilder().addBytesContents(ByteString.copyFromUtf8(entity(n))));
    }
    return request.build();
  }

  /** A gRPC message on the wire: uncompressed, its length, its bytes. */
  private static Buffer grpcFrame(MessageLite message) {
    byte[] bytes = message.toByteArray();
    return Buffer.buffer(5 + bytes.length).appendByte((byte) 0).appendInt(bytes.length).appendBytes(bytes);
  }
}
