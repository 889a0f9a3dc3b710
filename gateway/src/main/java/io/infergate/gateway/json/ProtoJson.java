package io.infergate.gateway.json;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.infergate.proto.serving.GetModelStatusResponse;
import io.infergate.proto.serving.ModelSpec;
import io.infergate.proto.serving.SignatureDefMap;
import io.infergate.gateway.protocol.ModelQueries;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * Protos as TF Serving renders them in JSON: original field names, every field printed, int64
 * as strings. Used by the model status and metadata endpoints.
 */
public final class ProtoJson {

  private static final JsonFormat.Printer PRINTER = JsonFormat.printer()
      .preservingProtoFieldNames()
      .alwaysPrintFieldsWithNoPresence();

  private ProtoJson() {}

  public static byte[] status(GetModelStatusResponse response) {
    return print(response).getBytes(StandardCharsets.UTF_8);
  }

  /**
   * {"model_spec": ..., "metadata": {"signature_def": {"signature_def": {...}}}}, and when some
   * signatures do not match the model, {"invalid_signatures": {name: why}} beside signature_def.
   */
  public static byte[] metadata(ModelSpec spec, SignatureDefMap signatures, Map<String, String> invalidSignatures) {
    String invalid = invalidSignatures.isEmpty() ? ""
        : ",\n\"" + ModelQueries.INVALID_SIGNATURES + "\": " + new JsonObject(new TreeMap<>(invalidSignatures)).encode();
    String json = "{\n\"model_spec\": " + print(spec) + ",\n\"metadata\": {\"signature_def\": "
        + print(signatures) + invalid + "\n}\n}";
    return json.getBytes(StandardCharsets.UTF_8);
  }

  private static String print(MessageOrBuilder message) {
    try {
      return PRINTER.print(message);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("Cannot print " + message.getClass().getSimpleName(), e);
    }
  }
}
