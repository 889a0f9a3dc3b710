package io.infergate.gateway.features;

import io.infergate.common.status.ServingException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.proto.TensorProto;

/**
 * Entity ids sent as a tensor (gRPC, Open Inference): one string or integer per instance, as
 * text for the key templates. Integers may come as typed values or as raw {@code tensor_content}.
 */
public final class EntityIds {

  private EntityIds() {}

  public static List<String> texts(String field, TensorProto ids) {
    if (ids.getTensorShape().getDimCount() > 1) {
      throw ServingException.invalidArgument("Entity ids '" + field + "' must be a vector, one id per instance");
    }
    List<String> texts = new ArrayList<>();
    ByteBuffer raw = ids.getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    switch (ids.getDtype()) {
      case DT_STRING -> ids.getStringValList().forEach(id -> texts.add(id.toStringUtf8()));
      case DT_INT64 -> {
        ids.getInt64ValList().forEach(id -> texts.add(Long.toString(id)));
        while (raw.remaining() >= Long.BYTES) {
          texts.add(Long.toString(raw.getLong()));
        }
      }
      case DT_INT32 -> {
        ids.getIntValList().forEach(id -> texts.add(Integer.toString(id)));
        while (raw.remaining() >= Integer.BYTES) {
          texts.add(Integer.toString(raw.getInt()));
        }
      }
      default -> throw ServingException.invalidArgument("Entity ids '" + field
          + "' must be DT_STRING, DT_INT64 or DT_INT32 values, not " + ids.getDtype());
    }
    if (raw.hasRemaining()) {
      throw ServingException.invalidArgument("Entity ids '" + field + "' carry tensor_content that is not whole "
          + ids.getDtype() + " values");
    }
    return texts;
  }
}
