package io.infergate.gateway.pipeline;

import io.infergate.proto.serving.PredictRequest;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.tensorflow.proto.SignatureDef;

/**
 * A predict request's inputs as a protocol decoded them, before the servable is known: JSON
 * values take their dtypes from the chosen version's signature, tensors arrive typed.
 */
public interface PredictInputs {

  /** The names of the inputs the request carries, entity id fields among them. */
  Set<String> names();

  /** Takes an entity id field out of the inputs and returns its value per instance, as text. */
  List<String> takeEntityIds(String field);

  /**
   * Puts the remaining inputs into the request as tensors, typed for the chosen version's
   * signature where they need it (looked up only then: a worker checks typed tensors against the
   * signature itself).
   */
  void putInto(PredictRequest.Builder request, Supplier<SignatureDef> signature);

  /** The outputs the client asked for; empty for all of the signature's. */
  default List<String> outputFilter() {
    return List.of();
  }

  /** The request as it was decoded, while nothing was taken out of it; null when there is none. */
  default PredictRequest unchanged() {
    return null;
  }
}
