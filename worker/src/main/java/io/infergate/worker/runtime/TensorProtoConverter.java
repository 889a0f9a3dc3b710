package io.infergate.worker.runtime;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.infergate.common.status.ServingException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.tensorflow.RawTensor;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.NdArray;
import org.tensorflow.ndarray.NdArrays;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.types.TString;

/**
 * Converts between {@link TensorProto} (the wire form every protocol decodes into) and native
 * TF tensors. Numeric data travels as little-endian {@code tensor_content}, which is also the
 * host layout of a native tensor, so it is copied once in and once out.
 */
public final class TensorProtoConverter {

  private TensorProtoConverter() {}

  /** A new native tensor; the caller owns it and must close it. */
  public static Tensor toTensor(TensorProto proto) {
    Shape shape = shapeOf(proto.getTensorShape());
    DataType dtype = proto.getDtype();
    if (dtype == DataType.DT_STRING) {
      return stringTensor(proto, shape);
    }
    byte[] bytes = numericBytes(proto, shape.size());
    return Tensor.of(DataTypes.tensorType(dtype), shape, DataBuffers.of(bytes, true, false));
  }

  /** Copies a native tensor out into a proto: numbers as tensor_content, strings as string_val. */
  public static TensorProto toProto(Tensor tensor) {
    TensorProto.Builder proto = TensorProto.newBuilder()
        .setDtype(tensor.dataType())
        .setTensorShape(shapeProto(tensor.shape()));
    if (tensor instanceof TString strings) {
      strings.asBytes().scalars().forEach(s -> proto.addStringVal(ByteString.copyFrom(s.getObject())));
      return proto.build();
    }
    DataTypes.elementSize(tensor.dataType()); // refuses an output dtype no protocol can describe
    RawTensor raw = tensor.asRawTensor();
    byte[] bytes = new byte[Math.toIntExact(raw.numBytes())];
    raw.data().read(bytes);
    return proto.setTensorContent(UnsafeByteOperations.unsafeWrap(bytes)).build();
  }

  public static Shape shapeOf(TensorShapeProto shape) {
    long[] dims = new long[shape.getDimCount()];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = shape.getDim(i).getSize();
      if (dims[i] < 0) {
        throw ServingException.invalidArgument("Tensor shape has an unknown dimension: " + shape);
      }
    }
    return Shape.of(dims);
  }

  public static TensorShapeProto shapeProto(Shape shape) {
    TensorShapeProto.Builder proto = TensorShapeProto.newBuilder();
    for (int i = 0; i < shape.numDimensions(); i++) {
      proto.addDimBuilder().setSize(shape.get(i));
    }
    return proto.build();
  }

  private static Tensor stringTensor(TensorProto proto, Shape shape) {
    List<ByteString> values = proto.getStringValList();
    long count = shape.size();
    if (values.size() != count && !(values.size() == 1 && count > 0)) {
      throw ServingException.invalidArgument("DT_STRING tensor of shape " + shape + " needs "
          + count + " values but has " + values.size());
    }
    NdArray<byte[]> array = NdArrays.ofObjects(byte[].class, shape);
    long[] index = {0};
    array.scalars().forEach(s -> {
      int i = values.size() == 1 ? 0 : (int) index[0]++;
      s.setObject(values.get(i).toByteArray());
    });
    return TString.tensorOfBytes(array);
  }

  /** The little-endian bytes of a numeric tensor, from tensor_content or the typed field. */
  private static byte[] numericBytes(TensorProto proto, long count) {
    DataType dtype = proto.getDtype();
    int size = DataTypes.elementSize(dtype);
    long expected = count * size;
    if (!proto.getTensorContent().isEmpty()) {
      if (proto.getTensorContent().size() != expected) {
        throw ServingException.invalidArgument("tensor_content of a " + dtype + " tensor with "
            + count + " elements must be " + expected + " bytes, not "
            + proto.getTensorContent().size());
      }
      return proto.getTensorContent().toByteArray();
    }
    int given = typedValueCount(proto);
    if (given != count && !(given == 1 && count > 0) && !(given == 0 && count == 0)) {
      throw ServingException.invalidArgument(dtype + " tensor of shape " + shapeOf(proto.getTensorShape())
          + " needs " + count + " values but has " + given);
    }
    ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(expected)).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < count; i++) {
      int at = given == 1 ? 0 : i;
      switch (dtype) {
        case DT_FLOAT -> out.putFloat(proto.getFloatVal(at));
        case DT_DOUBLE -> out.putDouble(proto.getDoubleVal(at));
        case DT_INT32 -> out.putInt(proto.getIntVal(at));
        case DT_INT64 -> out.putLong(proto.getInt64Val(at));
        case DT_BOOL -> out.put(proto.getBoolVal(at) ? (byte) 1 : 0);
        default -> throw DataTypes.unsupported(dtype);
      }
    }
    return out.array();
  }

  private static int typedValueCount(TensorProto proto) {
    return switch (proto.getDtype()) {
      case DT_FLOAT -> proto.getFloatValCount();
      case DT_DOUBLE -> proto.getDoubleValCount();
      case DT_INT32 -> proto.getIntValCount();
      case DT_INT64 -> proto.getInt64ValCount();
      case DT_BOOL -> proto.getBoolValCount();
      default -> throw DataTypes.unsupported(proto.getDtype());
    };
  }
}
