package io.infergate.worker.runtime;

import io.infergate.common.status.ServingException;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorProto;

/**
 * One validated call of a signature: named input tensors in, the named outputs wanted. This
 * is the unit that dynamic batching merges, whatever API the request came from.
 */
public record SignatureRun(String signatureKey, SignatureDef signature,
                           Map<String, TensorProto> inputs, List<String> outputs) {

  public SignatureRun {
    inputs = Map.copyOf(inputs);
    outputs = List.copyOf(outputs);
  }

  /** The 0-th dimension every input shares: the number of examples this run carries. */
  public long rows() {
    long rows = -1;
    for (Map.Entry<String, TensorProto> input : inputs.entrySet()) {
      TensorProto tensor = input.getValue();
      if (tensor.getTensorShape().getDimCount() == 0) {
        throw ServingException.invalidArgument("Batching needs every input to have a 0-th (batch) "
            + "dimension, but input '" + input.getKey() + "' is a scalar");
      }
      long size = tensor.getTensorShape().getDim(0).getSize();
      if (rows >= 0 && size != rows) {
        throw ServingException.invalidArgument("Batching needs every input to have the same 0-th "
            + "dimension size, but they have " + rows + " and " + size);
      }
      rows = size;
    }
    return rows;
  }
}
