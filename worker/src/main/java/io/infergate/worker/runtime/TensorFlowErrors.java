package io.infergate.worker.runtime;

import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import org.tensorflow.exceptions.TFFailedPreconditionException;
import org.tensorflow.exceptions.TFInvalidArgumentException;
import org.tensorflow.exceptions.TFOutOfRangeException;
import org.tensorflow.exceptions.TFResourceExhaustedException;
import org.tensorflow.exceptions.TFUnimplementedException;

/**
 * Maps what TensorFlow throws onto canonical statuses. TF Java's exceptions do not share one
 * base class, so they are told apart by type.
 */
final class TensorFlowErrors {

  private TensorFlowErrors() {}

  static ServingException toStatus(RuntimeException e) {
    if (e instanceof ServingException serving) {
      return serving;
    }
    return new ServingException(codeOf(e), e.getMessage() != null ? e.getMessage() : e.toString());
  }

  private static StatusCode codeOf(RuntimeException e) {
    // TF Java checks feeds and fetches against the graph itself and throws IllegalArgumentException.
    if (e instanceof TFInvalidArgumentException || e instanceof IllegalArgumentException) {
      return StatusCode.INVALID_ARGUMENT;
    } else if (e instanceof TFOutOfRangeException) {
      return StatusCode.OUT_OF_RANGE;
    } else if (e instanceof TFFailedPreconditionException) {
      return StatusCode.FAILED_PRECONDITION;
    } else if (e instanceof TFResourceExhaustedException) {
      return StatusCode.RESOURCE_EXHAUSTED;
    } else if (e instanceof TFUnimplementedException) {
      return StatusCode.UNIMPLEMENTED;
    }
    return StatusCode.INTERNAL;
  }
}
