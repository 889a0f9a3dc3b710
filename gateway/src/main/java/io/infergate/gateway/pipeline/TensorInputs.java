package io.infergate.gateway.pipeline;

import io.infergate.common.status.ServingException;
import io.infergate.gateway.features.EntityIds;
import io.infergate.proto.serving.PredictRequest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorProto;

/** Inputs that arrive as tensors: the gRPC APIs, and Open Inference JSON, whose tensors declare their types. */
public final class TensorInputs implements PredictInputs {

  private final PredictRequest decoded;
  /** The decoded message's own map until an entity id field is taken out (most requests never do). */
  private Map<String, TensorProto> tensors;
  private boolean copied;

  public TensorInputs(PredictRequest decoded) {
    this.decoded = decoded;
    this.tensors = decoded.getInputsMap();
  }

  @Override
  public Set<String> names() {
    return tensors.keySet();
  }

  @Override
  public List<String> takeEntityIds(String field) {
    if (!copied) {
      tensors = new LinkedHashMap<>(tensors);
      copied = true;
    }
    TensorProto ids = tensors.remove(field);
    if (ids == null) {
      throw ServingException.invalidArgument("The request needs the input '" + field + "' (entity ids)");
    }
    return EntityIds.texts(field, ids);
  }

  @Override
  public void putInto(PredictRequest.Builder request, Supplier<SignatureDef> signature) {
    request.putAllInputs(tensors);
  }

  @Override
  public List<String> outputFilter() {
    return decoded.getOutputFilterList();
  }

  @Override
  public PredictRequest unchanged() {
    return copied ? null : decoded;
  }
}
