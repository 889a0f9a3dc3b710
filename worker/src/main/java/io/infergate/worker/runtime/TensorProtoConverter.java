package io.infergate.worker.runtime;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.infergate.common.TensorLimits;
import java.nio.ByteBuffer;
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
 * host layout of a native tensor, so it is copied once in (straight from the proto's bytes) and
 * once out.
 */
public final class TensorProtoConverter {

  private TensorProtoConverter() {}

  /**
   * A new native tensor; the caller owns it and must close it. The last gate before TensorFlow:
   * a malformed tensor here would abort the process, so it is checked once more whatever checked it before.
   */
  public static Tensor toTensor(String name, TensorProto proto) {
    TensorLimits.NATIVE.check(name, proto);
    TensorProto canonical = TensorProtos.canonical(proto);
    Shape shape = Shape.of(TensorProtos.dims(canonical));
    if (canonical.getDtype() == DataType.DT_STRING) {
      return stringTensor(canonical.getStringValList(), shape);
    }
    // A view of tensor_content, not a byte[] copy: the native tensor's own copy is the only one.
    // slice(): a ByteString cut from a larger one (a batch's slice) starts mid-array.
    ByteBuffer content = canonical.getTensorContent().asReadOnlyByteBuffer().slice();
    return Tensor.of(DataTypes.tensorType(canonical.getDtype()), shape, DataBuffers.of(content));
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
    TensorLimits.elementSize(tensor.dataType()); // refuses an output dtype no protocol can describe
    RawTensor raw = tensor.asRawTensor();
    byte[] bytes = new byte[Math.toIntExact(raw.numBytes())];
    raw.data().read(bytes);
    return proto.setTensorContent(UnsafeByteOperations.unsafeWrap(bytes)).build();
  }

  public static TensorShapeProto shapeProto(Shape shape) {
    TensorShapeProto.Builder proto = TensorShapeProto.newBuilder();
    for (int i = 0; i < shape.numDimensions(); i++) {
      proto.addDimBuilder().setSize(shape.get(i));
    }
    return proto.build();
  }

  private static Tensor stringTensor(List<ByteString> values, Shape shape) {
    NdArray<byte[]> array = NdArrays.ofObjects(byte[].class, shape);
    int[] index = {0};
    array.scalars().forEach(s -> s.setObject(values.get(index[0]++).toByteArray()));
    return TString.tensorOfBytes(array);
  }
}
