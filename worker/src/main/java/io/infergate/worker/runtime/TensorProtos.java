package io.infergate.worker.runtime;

import com.google.protobuf.UnsafeByteOperations;
import io.infergate.common.TensorShapes;
import io.infergate.common.TensorLimits;
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
    return TensorLimits.elementCount("", tensor.getTensorShape());
  }

  /** Bytes per element of a numeric or bool dtype. */
  public static int elementSize(DataType dtype) {
    return TensorLimits.elementSize(dtype);
  }

  /**
   * The tensor in canonical form; returns it unchanged when it already is. The tensor must have
   * passed {@link TensorLimits#check}, which also bounds what filling its shape takes.
   */
  public static TensorProto canonical(TensorProto tensor) {
    long count = elementCount(tensor);
    if (tensor.getDtype() == DataType.DT_STRING) {
      int given = tensor.getStringValCount();
      if (given == count) {
        return tensor;
      }
      TensorProto.Builder out = tensor.toBuilder().clearStringVal();
      for (long i = 0; i < count; i++) {
        out.addStringVal(tensor.getStringVal(0));
      }
      return out.build();
    }
    int size = TensorLimits.elementSize(tensor.getDtype());
    if (!tensor.getTensorContent().isEmpty()) {
      return tensor;
    }
    int given = TensorLimits.typedValueCount(tensor);
    ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(count * size)).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < count; i++) {
      int at = given == 1 ? 0 : i;
      switch (tensor.getDtype()) {
        case DT_FLOAT -> out.putFloat(tensor.getFloatVal(at));
        case DT_DOUBLE -> out.putDouble(tensor.getDoubleVal(at));
        case DT_INT32 -> out.putInt(tensor.getIntVal(at));
        case DT_INT64 -> out.putLong(tensor.getInt64Val(at));
        case DT_BOOL -> out.put(tensor.getBoolVal(at) ? (byte) 1 : 0);
        default -> throw TensorLimits.unsupported(tensor.getDtype());
      }
    }
    return TensorProto.newBuilder().setDtype(tensor.getDtype()).setTensorShape(tensor.getTensorShape())
        .setTensorContent(UnsafeByteOperations.unsafeWrap(out.array())).build();
  }
}
