package io.infergate.gateway.json;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import io.infergate.common.status.ServingException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The one JSON factory of the REST APIs. Like TF Serving it reads and writes the non-standard
 * tokens NaN, Infinity and -Infinity as bare numbers.
 */
public final class JsonCodec {

  static final JsonFactory FACTORY = JsonFactory.builder()
      .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
      .disable(JsonWriteFeature.WRITE_NAN_AS_STRINGS)
      .build();

  private JsonCodec() {}

  /** A parser positioned on the first token of a JSON object body. */
  public static JsonParser objectParser(byte[] body) {
    try {
      JsonParser parser = FACTORY.createParser(body);
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        throw ServingException.invalidArgument("Request body must be a JSON object");
      }
      return parser;
    } catch (IOException e) {
      throw malformed(e);
    }
  }

  /** Writes a JSON document with {@code body} and returns its bytes. */
  public static byte[] write(JsonBody body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator generator = FACTORY.createGenerator(out, JsonEncoding.UTF8)) {
      body.writeTo(generator);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  static ServingException malformed(IOException e) {
    String message = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
    return ServingException.invalidArgument("JSON Parse error: " + message);
  }

  /** Writes one JSON document. */
  @FunctionalInterface
  public interface JsonBody {
    void writeTo(JsonGenerator generator) throws IOException;
  }
}
