package io.infergate.worker.runtime;

import io.infergate.common.TensorLimits;
import io.infergate.common.status.ServingException;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorProto;

/** Checks a request's inputs against a signature before any native tensor is made. */
final class SignatureValidator {

  private SignatureValidator() {}

  static void validateInputs(String signatureName, SignatureDef signature,
                             Map<String, TensorProto> inputs) {
    Map<String, TensorInfo> expected = signature.getInputsMap();
    if (inputs.size() == expected.size() && expected.keySet().containsAll(inputs.keySet())) {
      inputs.forEach((name, tensor) -> validateTensor(name, expected.get(name), tensor));
      return;
    }
    Set<String> extra = new TreeSet<>(inputs.keySet());
    extra.removeAll(expected.keySet());
    Set<String> missing = new TreeSet<>(expected.keySet());
    missing.removeAll(inputs.keySet());
    if (!extra.isEmpty() || !missing.isEmpty()) {
      throw ServingException.invalidArgument("Inputs do not match signature '" + signatureName
          + "', which expects " + new TreeSet<>(expected.keySet()) + ". Sent extra: " + extra
          + ". Missing but required: " + missing + ".");
    }
  }

  /**
   * The dtype, and what TensorFlow would abort on: TF Serving feeds tensors whatever the
   * signature's declared shape (half_plus_two declares [-1,1] and takes [3]), so shape conflicts
   * with the model surface from TensorFlow as errors.
   */
  private static void validateTensor(String name, TensorInfo info, TensorProto tensor) {
    if (tensor.getDtype() != info.getDtype()) {
      throw ServingException.invalidArgument("Input '" + name + "' expects " + info.getDtype()
          + " but got " + tensor.getDtype());
    }
    TensorLimits.NATIVE.check(name, tensor);
  }
}
