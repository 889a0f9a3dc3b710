package io.infergate.gateway.json;

import com.fasterxml.jackson.core.JsonGenerator;
import com.google.protobuf.ByteString;
import io.infergate.common.TensorShapes;
import io.infergate.common.status.ServingException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import org.tensorflow.proto.TensorProto;

/**
 * Random access to the values of a {@link TensorProto}, whether they sit in tensor_content or in
 * the typed field (where a single value fills the whole shape), written out as JSON scalars.
 */
final class TensorValues {

  private final TensorProto tensor;
  private final ByteBuffer content;
  private final long[] dims;
  private final long count;

  private TensorValues(TensorProto tensor) {
    this.tensor = tensor;
    this.content = tensor.getTensorContent().isEmpty() ? null
        // slice(): a ByteString cut from a larger one starts mid-array, and reads here are absolute.
        : tensor.getTensorContent().asReadOnlyByteBuffer().slice().order(ByteOrder.LITTLE_ENDIAN);
    this.dims = TensorShapes.dims(tensor.getTensorShape());
    long product = 1;
    for (long dim : dims) {
      product *= dim;
    }
    this.count = product;
  }

  static TensorValues of(TensorProto tensor) {
    return new TensorValues(tensor);
  }

  long[] dims() {
    return dims;
  }

  long count() {
    return count;
  }

  /** Writes the value at a flat, row-major index. */
  void write(JsonGenerator json, long index, boolean base64) throws IOException {
    int i = Math.toIntExact(index);
    switch (tensor.getDtype()) {
      case DT_FLOAT -> json.writeNumber(content != null ? content.getFloat(i * 4) : tensor.getFloatVal(typed(i, tensor.getFloatValCount())));
      case DT_DOUBLE -> json.writeNumber(content != null ? content.getDouble(i * 8) : tensor.getDoubleVal(typed(i, tensor.getDoubleValCount())));
      case DT_INT32 -> json.writeNumber(content != null ? content.getInt(i * 4) : tensor.getIntVal(typed(i, tensor.getIntValCount())));
      case DT_INT64 -> json.writeNumber(content != null ? content.getLong(i * 8) : tensor.getInt64Val(typed(i, tensor.getInt64ValCount())));
      case DT_BOOL -> json.writeBoolean(content != null ? content.get(i) != 0 : tensor.getBoolVal(typed(i, tensor.getBoolValCount())));
      case DT_STRING -> writeBytes(json, tensor.getStringVal(typed(i, tensor.getStringValCount())), base64);
      default -> throw ServingException.invalidArgument("Output dtype " + tensor.getDtype()
          + " cannot be written as JSON");
    }
  }

  /** Writes the sub-tensor that starts at {@code offset} and spans dimensions {@code from}.. as nested lists. */
  void writeNested(JsonGenerator json, int from, long offset, boolean base64) throws IOException {
    if (from == dims.length) {
      write(json, offset, base64);
      return;
    }
    long stride = 1;
    for (int d = from + 1; d < dims.length; d++) {
      stride *= dims[d];
    }
    json.writeStartArray();
    for (long i = 0; i < dims[from]; i++) {
      writeNested(json, from + 1, offset + i * stride, base64);
    }
    json.writeEndArray();
  }

  private static int typed(int index, int available) {
    if (available == 1) {
      return 0;
    }
    if (index >= available) {
      throw ServingException.invalidArgument("Tensor holds fewer values than its shape needs");
    }
    return index;
  }

  private static void writeBytes(JsonGenerator json, ByteString value, boolean base64) throws IOException {
    if (base64) {
      json.writeStartObject();
      json.writeStringField("b64", Base64.getEncoder().encodeToString(value.toByteArray()));
      json.writeEndObject();
    } else {
      json.writeString(value.toStringUtf8());
    }
  }
}
