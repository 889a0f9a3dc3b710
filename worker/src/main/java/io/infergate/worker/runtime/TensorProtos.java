package io.infergate.worker.runtime;

import com.google.protobuf.UnsafeByteOperations;
import io.infergate.common.TensorShapes;
import io.infergate.common.status.ServingException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Facts about a {@link TensorProto} and its one canonical form: numbers in little-endian
 * tensor_content, strings one string_val per element. Protocols may send either the typed
 * fields (where a single value fills the shape) or tensor_content; everything after decoding
 * works on the canonical form.
 */
public final class TensorProtos {

  private TensorProtos() {}

  public static long[] dims(TensorProto tensor) {
    return TensorShapes.dims(tensor.getTensorShape());
  }

  public static long elementCount(TensorProto tensor) {
    long count = 1;
    for (long dim : dims(tensor)) {
      if (dim < 0) {
        throw ServingException.invalidArgument("Tensor shape has an unknown dimension: " + tensor.getTensorShape());
      }
      count *= dim;
    }
    return count;
  }

  /** Bytes per element of a numeric or bool dtype. */
  public static int elementSize(DataType dtype) {
    return DataTypes.elementSize(dtype);
  }

  /** The tensor in canonical form; returns it unchanged when it already is. */
  public static TensorProto canonical(TensorProto tensor) {
    long count = elementCount(tensor);
    if (tensor.getDtype() == DataType.DT_STRING) {
      int given = tensor.getStringValCount();
      if (given == count) {
        return tensor;
      }
      requireFill(tensor, given, count);
      TensorProto.Builder out = tensor.toBuilder().clearStringVal();
      for (long i = 0; i < count; i++) {
        out.addStringVal(tensor.getStringVal(0));
      }
      return out.build();
    }
    int size = DataTypes.elementSize(tensor.getDtype());
    if (!tensor.getTensorContent().isEmpty()) {
      if (tensor.getTensorContent().size() != count * size) {
        throw ServingException.invalidArgument("tensor_content of a " + tensor.getDtype() + " tensor with "
            + count + " elements must be " + count * size + " bytes, not " + tensor.getTensorContent().size());
      }
      return tensor;
    }
    int given = typedValueCount(tensor);
    requireFill(tensor, given, count);
    ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(count * size)).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < count; i++) {
      int at = given == 1 ? 0 : i;
      switch (tensor.getDtype()) {
        case DT_FLOAT -> out.putFloat(tensor.getFloatVal(at));
        case DT_DOUBLE -> out.putDouble(tensor.getDoubleVal(at));
        case DT_INT32 -> out.putInt(tensor.getIntVal(at));
        case DT_INT64 -> out.putLong(tensor.getInt64Val(at));
        case DT_BOOL -> out.put(tensor.getBoolVal(at) ? (byte) 1 : 0);
        default -> throw DataTypes.unsupported(tensor.getDtype());
      }
    }
    return TensorProto.newBuilder().setDtype(tensor.getDtype()).setTensorShape(tensor.getTensorShape())
        .setTensorContent(UnsafeByteOperations.unsafeWrap(out.array())).build();
  }

  /** Whether {@code given} values can fill {@code count} elements: exactly, or one value repeated. */
  private static void requireFill(TensorProto tensor, int given, long count) {
    if (given != count && !(given == 1 && count > 0)) {
      throw ServingException.invalidArgument(tensor.getDtype() + " tensor of shape "
          + java.util.Arrays.toString(dims(tensor)) + " needs " + count + " values but has " + given);
    }
  }

  private static int typedValueCount(TensorProto tensor) {
    return switch (tensor.getDtype()) {
      case DT_FLOAT -> tensor.getFloatValCount();
      case DT_DOUBLE -> tensor.getDoubleValCount();
      case DT_INT32 -> tensor.getIntValCount();
      case DT_INT64 -> tensor.getInt64ValCount();
      case DT_BOOL -> tensor.getBoolValCount();
      default -> throw DataTypes.unsupported(tensor.getDtype());
    };
  }

}
