package io.infergate.gateway.features;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One entity's features as the loader and the admin API carry them, one JSON line each:
 * {@code {"key": k, "values": {field: number}}} for a hash of named numbers, or
 * {@code {"key": k, "vector": [numbers]}} for a packed little-endian float32 vector.
 *
 * @param hash the named numbers as text, or null for a vector
 * @param vector the packed vector, or null for a hash
 */
public record FeatureRecord(String key, Map<String, String> hash, byte[] vector) {

  /** Reads one line; IllegalArgumentException says what is wrong with it. */
  public static FeatureRecord parse(String line) {
    JsonObject row;
    try {
      row = new JsonObject(line);
    } catch (DecodeException e) {
      throw new IllegalArgumentException("not a JSON object: " + e.getMessage());
    }
    if (!(row.getValue("key") instanceof String key) || key.isEmpty()) {
      throw new IllegalArgumentException("'key' must be a non-empty string");
    }
    if (row.getValue("vector") instanceof JsonArray numbers) {
      ByteBuffer packed = ByteBuffer.allocate(numbers.size() * 4).order(ByteOrder.LITTLE_ENDIAN);
      numbers.forEach(value -> packed.putFloat(number(value)));
      return new FeatureRecord(key, null, packed.array());
    }
    if (row.getValue("values") instanceof JsonObject values) {
      Map<String, String> hash = new LinkedHashMap<>();
      values.forEach(field -> hash.put(field.getKey(), Float.toString(number(field.getValue()))));
      return new FeatureRecord(key, hash, null);
    }
    throw new IllegalArgumentException("needs 'values' (an object of numbers) or 'vector' (a list of numbers)");
  }

  /** The record as one JSON line, which {@link #parse} reads back. */
  public String toJson() {
    JsonObject row = new JsonObject().put("key", key);
    if (vector != null) {
      JsonArray numbers = new JsonArray();
      ByteBuffer packed = ByteBuffer.wrap(vector).order(ByteOrder.LITTLE_ENDIAN);
      while (packed.remaining() >= 4) {
        numbers.add(packed.getFloat());
      }
      return row.put("vector", numbers).encode();
    }
    JsonObject values = new JsonObject();
    hash.forEach((field, value) -> values.put(field, Float.parseFloat(value)));
    return row.put("values", values).encode();
  }

  private static float number(Object value) {
    if (!(value instanceof Number number)) {
      throw new IllegalArgumentException("'" + value + "' is not a number");
    }
    return number.floatValue();
  }
}
