package io.infergate.gateway.json;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.infergate.common.status.ServingException;
import io.infergate.gateway.pipeline.PredictInputs;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.proto.serving.PredictResponse;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorProto;

/**
 * TF Serving's REST predict body: the row ({@code instances}) and columnar ({@code inputs})
 * forms in, {@code predictions} or {@code outputs} back.
 */
public final class PredictJson {

  /** Key for the one input when a request does not name it (single-input signatures). */
  private static final String UNNAMED = "";

  private PredictJson() {}

  /** A parsed predict body whose tensors are typed once the signature is known. */
  public static final class Body implements PredictInputs {
    private String signatureName = "";
    private Boolean rowFormat;
    private final Map<String, JsonTensorBuilder> tensors = new LinkedHashMap<>();

    public String signatureName() {
      return signatureName;
    }

    public boolean rowFormat() {
      return rowFormat;
    }

    @Override
    public Set<String> names() {
      return tensors.keySet();
    }

    @Override
    public List<String> takeEntityIds(String field) {
      JsonTensorBuilder values = tensors.remove(field);
      if (values == null) {
        throw ServingException.invalidArgument("Every instance needs the field '" + field + "'");
      }
      return values.texts();
    }

    /** Each input takes the dtype the signature declares for it. */
    @Override
    public void putInto(PredictRequest.Builder request, Supplier<SignatureDef> signatures) {
      Map<String, TensorInfo> declared = signatures.get().getInputsMap();
      if (rowFormat) {
        checkSameInstanceCount();
      }
      for (JsonTensorBuilder tensor : tensors.values()) {
        String name = tensor.name();
        if (UNNAMED.equals(name)) {
          if (declared.size() != 1) {
            throw ServingException.invalidArgument("The signature has inputs " + declared.keySet()
                + ": each value must be an object keyed by input name");
          }
          name = declared.keySet().iterator().next();
        }
        TensorInfo info = declared.get(name);
        if (info == null) {
          throw ServingException.invalidArgument("input tensor alias not found in signature: " + name
              + ". Inputs expected to be in the set " + declared.keySet() + ".");
        }
        request.putInputs(name, tensor.build(info.getDtype()));
      }
    }

    private void checkSameInstanceCount() {
      int count = -1;
      for (JsonTensorBuilder tensor : tensors.values()) {
        if (count >= 0 && tensor.elements() != count) {
          throw ServingException.invalidArgument("Every instance must hold every named input: input '"
              + tensor.name() + "' appears in " + tensor.elements() + " of " + count + " instances");
        }
        count = tensor.elements();
      }
    }
  }

  public static Body parse(byte[] json) {
    try (JsonParser parser = JsonCodec.objectParser(json)) {
      Body body = new Body();
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String field = parser.currentName();
        JsonToken value = parser.nextToken();
        switch (field) {
          case "signature_name" -> body.signatureName = requireString(parser, value, field);
          case "instances" -> readInstances(parser, body);
          case "inputs" -> readInputs(parser, body);
          default -> parser.skipChildren();
        }
      }
      if (body.rowFormat == null) {
        throw ServingException.invalidArgument("Missing 'inputs' or 'instances' key");
      }
      return body;
    } catch (IOException e) {
      throw JsonCodec.malformed(e);
    }
  }

  private static void readInstances(JsonParser parser, Body body) throws IOException {
    startFormat(body, true);
    if (parser.currentToken() != JsonToken.START_ARRAY) {
      throw ServingException.invalidArgument("'instances' must be a JSON list");
    }
    while (parser.nextToken() != JsonToken.END_ARRAY) {
      readValueOrNamedInputs(parser, body, true);
    }
    if (body.tensors.isEmpty()) {
      throw ServingException.invalidArgument("'instances' is an empty list");
    }
  }

  private static void readInputs(JsonParser parser, Body body) throws IOException {
    startFormat(body, false);
    readValueOrNamedInputs(parser, body, false);
  }

  /**
   * Reads either a value of the single unnamed input or an object of named inputs. An object
   * whose first key is "b64" is binary data, as in TF Serving.
   */
  private static void readValueOrNamedInputs(JsonParser parser, Body body, boolean batched) throws IOException {
    if (parser.currentToken() != JsonToken.START_OBJECT) {
      tensor(body, UNNAMED, batched).readElement(parser);
      return;
    }
    if (parser.nextToken() == JsonToken.FIELD_NAME && "b64".equals(parser.currentName())) {
      tensor(body, UNNAMED, batched).readBase64Element(parser);
      return;
    }
    for (JsonToken token = parser.currentToken(); token == JsonToken.FIELD_NAME; token = parser.nextToken()) {
      String name = parser.currentName();
      parser.nextToken();
      tensor(body, name, batched).readElement(parser);
    }
  }

  private static JsonTensorBuilder tensor(Body body, String name, boolean batched) {
    return body.tensors.computeIfAbsent(name, n -> new JsonTensorBuilder(n, batched));
  }

  private static void startFormat(Body body, boolean row) {
    if (body.rowFormat != null) {
      throw ServingException.invalidArgument("Request body may contain 'instances' or 'inputs', not both");
    }
    body.rowFormat = row;
  }

  private static String requireString(JsonParser parser, JsonToken token, String field) throws IOException {
    if (token != JsonToken.VALUE_STRING) {
      throw ServingException.invalidArgument("'" + field + "' must be a string");
    }
    return parser.getText();
  }

  /** The response body: {"predictions": ...} for row requests, {"outputs": ...} for columnar ones. */
  public static byte[] write(PredictResponse response, boolean rowFormat) {
    Map<String, TensorProto> outputs = response.getOutputsMap();
    return JsonCodec.write(json -> {
      json.writeStartObject();
      if (rowFormat) {
        json.writeFieldName("predictions");
        writeRows(json, outputs);
      } else {
        json.writeFieldName("outputs");
        writeColumns(json, outputs);
      }
      json.writeEndObject();
    });
  }

  private static void writeRows(JsonGenerator json, Map<String, TensorProto> outputs) throws IOException {
    Map<String, TensorValues> values = new LinkedHashMap<>();
    long rows = -1;
    for (Map.Entry<String, TensorProto> output : outputs.entrySet()) {
      TensorValues tensor = TensorValues.of(output.getValue());
      if (tensor.dims().length == 0) {
        throw ServingException.invalidArgument("Output '" + output.getKey() + "' is a scalar, which "
            + "the row format cannot split per instance; use the columnar 'inputs' form");
      }
      if (rows >= 0 && tensor.dims()[0] != rows) {
        throw ServingException.invalidArgument("Output tensors have different batch sizes ("
            + rows + " vs " + tensor.dims()[0] + "); use the columnar 'inputs' form");
      }
      rows = tensor.dims()[0];
      values.put(output.getKey(), tensor);
    }
    json.writeStartArray();
    for (long row = 0; row < Math.max(rows, 0); row++) {
      if (values.size() == 1) {
        writeRow(json, values.values().iterator().next(), row, isBytes(values.keySet().iterator().next()));
      } else {
        json.writeStartObject();
        for (Map.Entry<String, TensorValues> value : values.entrySet()) {
          json.writeFieldName(value.getKey());
          writeRow(json, value.getValue(), row, isBytes(value.getKey()));
        }
        json.writeEndObject();
      }
    }
    json.writeEndArray();
  }

  private static void writeRow(JsonGenerator json, TensorValues tensor, long row, boolean base64) throws IOException {
    long rowSize = tensor.dims()[0] == 0 ? 0 : tensor.count() / tensor.dims()[0];
    tensor.writeNested(json, 1, row * rowSize, base64);
  }

  private static void writeColumns(JsonGenerator json, Map<String, TensorProto> outputs) throws IOException {
    if (outputs.size() == 1) {
      Map.Entry<String, TensorProto> only = outputs.entrySet().iterator().next();
      TensorValues.of(only.getValue()).writeNested(json, 0, 0, isBytes(only.getKey()));
      return;
    }
    json.writeStartObject();
    for (Map.Entry<String, TensorProto> output : outputs.entrySet()) {
      json.writeFieldName(output.getKey());
      TensorValues.of(output.getValue()).writeNested(json, 0, 0, isBytes(output.getKey()));
    }
    json.writeEndObject();
  }

  /** TF Serving returns outputs whose alias ends in "_bytes" base64-wrapped. */
  static boolean isBytes(String outputName) {
    return outputName.endsWith("_bytes");
  }
}
