package io.infergate.gateway.features;

import io.infergate.common.status.ServingException;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.proto.TensorProto;

/** Entity ids sent as a tensor (gRPC): one string or integer per instance, as text for the key templates. */
public final class EntityIds {

  private EntityIds() {}

  public static List<String> texts(String field, TensorProto ids) {
    if (ids.getTensorShape().getDimCount() > 1) {
      throw ServingException.invalidArgument("Entity ids '" + field + "' must be a vector, one id per instance");
    }
    List<String> texts = new ArrayList<>();
    switch (ids.getDtype()) {
      case DT_STRING -> ids.getStringValList().forEach(id -> texts.add(id.toStringUtf8()));
      case DT_INT64 -> ids.getInt64ValList().forEach(id -> texts.add(Long.toString(id)));
      case DT_INT32 -> ids.getIntValList().forEach(id -> texts.add(Integer.toString(id)));
      default -> throw ServingException.invalidArgument("Entity ids '" + field
          + "' must be DT_STRING, DT_INT64 or DT_INT32 values (string_val, int64_val, int_val), not " + ids.getDtype());
    }
    return texts;
  }
}
