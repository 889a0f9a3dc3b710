package io.infergate.gateway.json;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.google.protobuf.ByteString;
import io.infergate.common.status.ServingException;
import io.infergate.proto.serving.ClassificationResult;
import io.infergate.proto.serving.ExampleList;
import io.infergate.proto.serving.ExampleListWithContext;
import io.infergate.proto.serving.Input;
import io.infergate.proto.serving.RegressionResult;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.tensorflow.proto.BytesList;
import org.tensorflow.proto.Example;
import org.tensorflow.proto.Feature;
import org.tensorflow.proto.Features;
import org.tensorflow.proto.FloatList;
import org.tensorflow.proto.Int64List;

/**
 * TF Serving's REST classify and regress bodies: {@code examples} (and {@code context}) of
 * tf.Example features in, {@code results} back. A feature's JSON type picks its list: integers
 * an int64_list, other numbers a float_list, strings and {"b64": ...} a bytes_list.
 */
public final class ExampleJson {

  private ExampleJson() {}

  /** A parsed classify or regress body. */
  public record Body(String signatureName, Input input) {}

  public static Body parse(byte[] json) {
    try (JsonParser parser = JsonCodec.objectParser(json)) {
      String signatureName = "";
      Example context = null;
      List<Example> examples = null;
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String field = parser.currentName();
        JsonToken value = parser.nextToken();
        switch (field) {
          case "signature_name" -> {
            if (value != JsonToken.VALUE_STRING) {
              throw ServingException.invalidArgument("'signature_name' must be a string");
            }
            signatureName = parser.getText();
          }
          case "context" -> context = readExample(parser);
          case "examples" -> examples = readExamples(parser);
          default -> parser.skipChildren();
        }
      }
      if (examples == null) {
        throw ServingException.invalidArgument("Missing 'examples' key");
      }
      return new Body(signatureName, toInput(context, examples));
    } catch (IOException e) {
      throw JsonCodec.malformed(e);
    }
  }

  private static Input toInput(Example context, List<Example> examples) {
    if (context == null) {
      return Input.newBuilder().setExampleList(ExampleList.newBuilder().addAllExamples(examples)).build();
    }
    for (Example example : examples) {
      for (String feature : example.getFeatures().getFeatureMap().keySet()) {
        if (context.getFeatures().containsFeature(feature)) {
          throw ServingException.invalidArgument("Feature '" + feature
              + "' appears in both 'context' and an example");
        }
      }
    }
    return Input.newBuilder().setExampleListWithContext(ExampleListWithContext.newBuilder()
        .setContext(context).addAllExamples(examples)).build();
  }

  private static List<Example> readExamples(JsonParser parser) throws IOException {
    if (parser.currentToken() != JsonToken.START_ARRAY) {
      throw ServingException.invalidArgument("'examples' must be a JSON list of objects");
    }
    List<Example> examples = new ArrayList<>();
    while (parser.nextToken() != JsonToken.END_ARRAY) {
      examples.add(readExample(parser));
    }
    return examples;
  }

  private static Example readExample(JsonParser parser) throws IOException {
    if (parser.currentToken() != JsonToken.START_OBJECT) {
      throw ServingException.invalidArgument("An example must be a JSON object of features");
    }
    Features.Builder features = Features.newBuilder();
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String name = parser.currentName();
      parser.nextToken();
      features.putFeature(name, readFeature(parser, name));
    }
    return Example.newBuilder().setFeatures(features).build();
  }

  private static Feature readFeature(JsonParser parser, String name) throws IOException {
    FeatureValues values = new FeatureValues(name);
    if (parser.currentToken() == JsonToken.START_ARRAY) {
      while (parser.nextToken() != JsonToken.END_ARRAY) {
        values.add(parser);
      }
    } else {
      values.add(parser);
    }
    return values.toFeature();
  }

  /** The values of one feature, which settle on one list type. */
  private static final class FeatureValues {
    private final String name;
    private final List<Number> numbers = new ArrayList<>();
    private final List<ByteString> bytes = new ArrayList<>();
    private boolean anyFloat;

    FeatureValues(String name) {
      this.name = name;
    }

    void add(JsonParser parser) throws IOException {
      switch (parser.currentToken()) {
        case VALUE_NUMBER_INT -> numbers.add(parser.getLongValue());
        case VALUE_NUMBER_FLOAT -> {
          anyFloat = true;
          numbers.add(parser.getDoubleValue());
        }
        case VALUE_STRING -> bytes.add(ByteString.copyFromUtf8(parser.getText()));
        case START_OBJECT -> bytes.add(readBase64(parser));
        default -> throw ServingException.invalidArgument("Feature '" + name
            + "' must hold numbers, strings or {\"b64\": ...} values");
      }
      if (!numbers.isEmpty() && !bytes.isEmpty()) {
        throw ServingException.invalidArgument("Feature '" + name + "' mixes numbers and strings");
      }
    }

    private ByteString readBase64(JsonParser parser) throws IOException {
      if (parser.nextToken() != JsonToken.FIELD_NAME || !"b64".equals(parser.currentName())
          || parser.nextToken() != JsonToken.VALUE_STRING) {
        throw ServingException.invalidArgument("Feature '" + name + "': an object value must be {\"b64\": ...}");
      }
      try {
        ByteString value = ByteString.copyFrom(Base64.getDecoder().decode(parser.getText()));
        if (parser.nextToken() != JsonToken.END_OBJECT) {
          throw ServingException.invalidArgument("Feature '" + name + "': {\"b64\": ...} takes no other keys");
        }
        return value;
      } catch (IllegalArgumentException e) {
        throw ServingException.invalidArgument("Feature '" + name + "' has invalid base64: " + e.getMessage());
      }
    }

    Feature toFeature() {
      if (!bytes.isEmpty()) {
        return Feature.newBuilder().setBytesList(BytesList.newBuilder().addAllValue(bytes)).build();
      }
      if (anyFloat) {
        FloatList.Builder floats = FloatList.newBuilder();
        numbers.forEach(n -> floats.addValue(n.floatValue()));
        return Feature.newBuilder().setFloatList(floats).build();
      }
      Int64List.Builder ints = Int64List.newBuilder();
      numbers.forEach(n -> ints.addValue(n.longValue()));
      return Feature.newBuilder().setInt64List(ints).build();
    }
  }

  /** {"results": [[[label, score], ...], ...]}, one list of classes per example. */
  public static byte[] write(ClassificationResult result) {
    return JsonCodec.write(json -> {
      json.writeStartObject();
      json.writeArrayFieldStart("results");
      for (var classifications : result.getClassificationsList()) {
        json.writeStartArray();
        for (var item : classifications.getClassesList()) {
          json.writeStartArray();
          json.writeString(item.getLabel());
          json.writeNumber(item.getScore());
          json.writeEndArray();
        }
        json.writeEndArray();
      }
      json.writeEndArray();
      json.writeEndObject();
    });
  }

  /** {"results": [value, ...]}, one number per example. */
  public static byte[] write(RegressionResult result) {
    return JsonCodec.write(json -> {
      json.writeStartObject();
      json.writeArrayFieldStart("results");
      for (var regression : result.getRegressionsList()) {
        json.writeNumber(regression.getValue());
      }
      json.writeEndArray();
      json.writeEndObject();
    });
  }
}
