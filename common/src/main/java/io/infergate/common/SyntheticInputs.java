package io.infergate.common;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Inputs made up from a signature, for warm-ups: each input's shape with its unknown dimensions
 * as 1 (an unknown 0-th, batch, dimension as the rows asked for; an unknown rank as a scalar),
 * all zeros, false or empty strings.
 */
public final class SyntheticInputs {

  /** The dtypes every protocol carries, and a zero of each makes sense. */
  private static final Set<DataType> SUPPORTED = Set.of(DataType.DT_FLOAT, DataType.DT_DOUBLE, DataType.DT_INT32,
      DataType.DT_INT64, DataType.DT_BOOL, DataType.DT_STRING);

  private SyntheticInputs() {}

  /** One made-up input. */
  public record Input(String name, DataType dtype, long[] shape) {

    public long elements() {
      long elements = 1;
      for (long dim : shape) {
        elements *= dim;
      }
      return elements;
    }

    /** As a tensor of one value, which fills its shape. */
    public TensorProto zeros() {
      TensorShapeProto.Builder dims = TensorShapeProto.newBuilder();
      for (long dim : shape) {
        dims.addDimBuilder().setSize(dim);
      }
      TensorProto.Builder tensor = TensorProto.newBuilder().setDtype(dtype).setTensorShape(dims);
      switch (dtype) {
        case DT_FLOAT -> tensor.addFloatVal(0);
        case DT_DOUBLE -> tensor.addDoubleVal(0);
        case DT_INT32 -> tensor.addIntVal(0);
        case DT_INT64 -> tensor.addInt64Val(0);
        case DT_BOOL -> tensor.addBoolVal(false);
        default -> tensor.addStringVal(ByteString.EMPTY);
      }
      return tensor.build();
    }
  }

  /**
   * The signature's inputs other than {@code skipped}; empty when one of them has a dtype no
   * zero is made up for, or when it has none.
   */
  public static Optional<List<Input>> of(SignatureDef signature, Set<String> skipped) {
    return of(signature, skipped, 1);
  }

  /** Every input of the signature as a tensor by name, {@code rows} rows where the batch dimension is unknown. */
  public static Optional<Map<String, TensorProto>> tensors(SignatureDef signature, long rows) {
    return of(signature, Set.of(), rows).map(inputs -> {
      Map<String, TensorProto> tensors = new LinkedHashMap<>();
      inputs.forEach(input -> tensors.put(input.name(), input.zeros()));
      return tensors;
    });
  }

  /** As {@link #of(SignatureDef, Set)}, with {@code rows} rows where the batch dimension is unknown. */
  public static Optional<List<Input>> of(SignatureDef signature, Set<String> skipped, long rows) {
    List<Input> inputs = new ArrayList<>();
    for (var entry : signature.getInputsMap().entrySet()) {
      TensorInfo info = entry.getValue();
      if (skipped.contains(entry.getKey())) {
        continue;
      }
      if (!SUPPORTED.contains(info.getDtype())) {
        return Optional.empty();
      }
      long[] shape = info.getTensorShape().getUnknownRank() ? new long[0]
          : info.getTensorShape().getDimList().stream().mapToLong(d -> d.getSize() < 0 ? 1 : d.getSize()).toArray();
      if (shape.length > 0 && info.getTensorShape().getDim(0).getSize() < 0) {
        shape[0] = rows;
      }
      inputs.add(new Input(entry.getKey(), info.getDtype(), shape));
    }
    return inputs.isEmpty() ? Optional.empty() : Optional.of(inputs);
  }
}
