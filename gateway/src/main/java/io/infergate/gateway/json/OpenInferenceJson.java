package io.infergate.gateway.json;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.infergate.common.ServableId;
import io.infergate.common.status.ServingException;
import io.infergate.gateway.protocol.OpenInferenceTypes;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.proto.serving.PredictResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorProto;

/**
 * The Open Inference Protocol (KServe v2) REST bodies: infer requests and responses with flat
 * row-major data, and model metadata.
 */
public final class OpenInferenceJson {

  private OpenInferenceJson() {}

  /**
   * A parsed infer request; tensors are typed by their own {@code datatype}.
   *
   * @param priority the "priority" parameter as text (a level or a name), or null
   */
  public record InferRequest(String id, String signatureName, String priority, PredictRequest.Builder request) {}

  /** The request parameters Infergate reads; others are ignored, as the protocol allows. */
  private record Parameters(String signatureName, String priority) {}

  public static InferRequest parse(byte[] json) {
    try (JsonParser parser = JsonCodec.objectParser(json)) {
      String id = null;
      Parameters parameters = new Parameters("", null);
      PredictRequest.Builder request = PredictRequest.newBuilder();
      boolean sawInputs = false;
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String field = parser.currentName();
        parser.nextToken();
        switch (field) {
          case "id" -> id = text(parser, "id");
          case "parameters" -> parameters = readParameters(parser, parameters);
          case "inputs" -> {
            sawInputs = true;
            forEachObject(parser, "inputs", () -> readInput(parser, request));
          }
          case "outputs" -> forEachObject(parser, "outputs", () -> readOutput(parser, request));
          default -> parser.skipChildren();
        }
      }
      if (!sawInputs || request.getInputsCount() == 0) {
        throw ServingException.invalidArgument("An infer request needs a non-empty 'inputs' list");
      }
      return new InferRequest(id, parameters.signatureName(), parameters.priority(), request);
    } catch (IOException e) {
      throw JsonCodec.malformed(e);
    }
  }

  private interface Reader {
    void read() throws IOException;
  }

  private static void forEachObject(JsonParser parser, String field, Reader reader) throws IOException {
    if (parser.currentToken() != JsonToken.START_ARRAY) {
      throw ServingException.invalidArgument("'" + field + "' must be a list of objects");
    }
    while (parser.nextToken() != JsonToken.END_ARRAY) {
      if (parser.currentToken() != JsonToken.START_OBJECT) {
        throw ServingException.invalidArgument("'" + field + "' must be a list of objects");
      }
      reader.read();
    }
  }

  /**
   * TF signatures are chosen with the "signature_name" request parameter (serving_default
   * otherwise); "priority" is a level (1 highest) or a name, as Triton's extension has it.
   */
  private static Parameters readParameters(JsonParser parser, Parameters current) throws IOException {
    String name = current.signatureName();
    String priority = current.priority();
    if (parser.currentToken() != JsonToken.START_OBJECT) {
      throw ServingException.invalidArgument("'parameters' must be an object");
    }
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String key = parser.currentName();
      parser.nextToken();
      switch (key) {
        case "signature_name" -> name = text(parser, "signature_name");
        case "priority" -> {
          if (parser.currentToken() != JsonToken.VALUE_NUMBER_INT && parser.currentToken() != JsonToken.VALUE_STRING) {
            throw ServingException.invalidArgument("'priority' must be a level (1 to 3) or a name");
          }
          priority = parser.getText();
        }
        default -> parser.skipChildren();
      }
    }
    return new Parameters(name, priority);
  }

  private static void readInput(JsonParser parser, PredictRequest.Builder request) throws IOException {
    String name = null;
    String datatype = null;
    long[] shape = null;
    JsonTensorBuilder data = null;
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String field = parser.currentName();
      parser.nextToken();
      switch (field) {
        case "name" -> name = text(parser, "name");
        case "datatype" -> datatype = text(parser, "datatype");
        case "shape" -> shape = readShape(parser);
        case "data" -> {
          data = new JsonTensorBuilder(name == null ? "?" : name, false);
          data.readElement(parser);
        }
        default -> parser.skipChildren();
      }
    }
    if (name == null || datatype == null || shape == null || data == null) {
      throw ServingException.invalidArgument("Each input needs 'name', 'shape', 'datatype' and 'data'");
    }
    TensorProto flat = data.build(OpenInferenceTypes.toDataType(datatype, name));
    long count = 1;
    for (long dim : shape) {
      count *= dim;
    }
    long given = 1;
    for (long dim : data.shape()) {
      given *= dim;
    }
    if (count != given) {
      throw ServingException.invalidArgument("Input '" + name + "' has shape " + java.util.Arrays.toString(shape)
          + " (" + count + " elements) but its data holds " + given);
    }
    if (request.containsInputs(name)) {
      throw ServingException.invalidArgument("Input '" + name + "' is given more than once");
    }
    request.putInputs(name, flat.toBuilder().setTensorShape(JsonTensorBuilder.shapeProto(shape)).build());
  }

  /** The string the parser stands on; any other JSON value for a string field is the client's error. */
  private static String text(JsonParser parser, String field) throws IOException {
    if (parser.currentToken() != JsonToken.VALUE_STRING) {
      throw ServingException.invalidArgument("'" + field + "' must be a string");
    }
    return parser.getText();
  }

  private static long[] readShape(JsonParser parser) throws IOException {
    if (parser.currentToken() != JsonToken.START_ARRAY) {
      throw ServingException.invalidArgument("'shape' must be a list of integers");
    }
    List<Long> dims = new ArrayList<>();
    while (parser.nextToken() != JsonToken.END_ARRAY) {
      if (parser.currentToken() != JsonToken.VALUE_NUMBER_INT || parser.getLongValue() < 0) {
        throw ServingException.invalidArgument("'shape' must be a list of non-negative integers");
      }
      dims.add(parser.getLongValue());
    }
    return dims.stream().mapToLong(Long::longValue).toArray();
  }

  private static void readOutput(JsonParser parser, PredictRequest.Builder request) throws IOException {
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String field = parser.currentName();
      parser.nextToken();
      if ("name".equals(field)) {
        request.addOutputFilter(text(parser, "name"));
      } else {
        parser.skipChildren();
      }
    }
  }

  /** {"model_name", "model_version", "id", "outputs": [{name, datatype, shape, data}]} */
  public static byte[] write(PredictResponse response, String id) {
    return JsonCodec.write(json -> {
      json.writeStartObject();
      json.writeStringField("model_name", response.getModelSpec().getName());
      json.writeStringField("model_version", Long.toString(response.getModelSpec().getVersion().getValue()));
      if (id != null) {
        json.writeStringField("id", id);
      }
      json.writeArrayFieldStart("outputs");
      for (Map.Entry<String, TensorProto> output : response.getOutputsMap().entrySet()) {
        TensorValues values = TensorValues.of(output.getValue());
        json.writeStartObject();
        json.writeStringField("name", output.getKey());
        json.writeStringField("datatype", OpenInferenceTypes.toDatatype(output.getValue().getDtype()));
        writeShape(json, values.dims());
        json.writeArrayFieldStart("data");
        for (long i = 0; i < values.count(); i++) {
          values.write(json, i, false);
        }
        json.writeEndArray();
        json.writeEndObject();
      }
      json.writeEndArray();
      json.writeEndObject();
    });
  }

  /** {"name", "versions", "platform", "inputs": [...], "outputs": [...]} of one signature. */
  public static byte[] modelMetadata(String model, Collection<Long> versions, SignatureDef signature) {
    return JsonCodec.write(json -> {
      json.writeStartObject();
      json.writeStringField("name", model);
      json.writeArrayFieldStart("versions");
      for (long version : versions) {
        json.writeString(Long.toString(version));
      }
      json.writeEndArray();
      json.writeStringField("platform", "tensorflow_savedmodel");
      writeTensorInfos(json, "inputs", signature.getInputsMap());
      writeTensorInfos(json, "outputs", signature.getOutputsMap());
      json.writeEndObject();
    });
  }

  private static void writeTensorInfos(JsonGenerator json, String field, Map<String, TensorInfo> infos)
      throws IOException {
    json.writeArrayFieldStart(field);
    for (Map.Entry<String, TensorInfo> info : infos.entrySet()) {
      json.writeStartObject();
      json.writeStringField("name", info.getKey());
      json.writeStringField("datatype", OpenInferenceTypes.toDatatype(info.getValue().getDtype()));
      writeShape(json, OpenInferenceTypes.shape(info.getValue()));
      json.writeEndObject();
    }
    json.writeEndArray();
  }

  private static void writeShape(JsonGenerator json, long[] dims) throws IOException {
    json.writeArrayFieldStart("shape");
    for (long dim : dims) {
      json.writeNumber(dim);
    }
    json.writeEndArray();
  }

  /** The reply to a readiness probe of one model. */
  public static byte[] modelReady(ServableId id, String model, boolean ready) {
    return JsonCodec.write(json -> {
      json.writeStartObject();
      json.writeStringField("name", model);
      if (id != null) {
        json.writeStringField("version", Long.toString(id.version()));
      }
      json.writeBooleanField("ready", ready);
      json.writeEndObject();
    });
  }
}
