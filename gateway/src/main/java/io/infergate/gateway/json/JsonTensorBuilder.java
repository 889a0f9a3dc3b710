package io.infergate.gateway.json;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.infergate.common.TensorLimits;
import io.infergate.common.status.ServingException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Collects one tensor from JSON in a single streaming pass. Values are kept untyped (number,
 * bool or bytes) and the shape is inferred from the nesting; the dtype is applied by
 * {@link #build} once the signature is known, because a request may name its signature after
 * its data.
 */
final class JsonTensorBuilder {

  private enum Kind { NONE, NUMBER, BOOL, BYTES }

  private final String name;
  private final boolean batched;
  private Kind kind = Kind.NONE;
  /**
   * Numbers and bools, 8 bytes each: integers as longs while every number read is one, then all
   * as the bits of doubles (a request's JSON is the largest thing it makes, so it is kept compact).
   */
  private long[] values = new long[16];
  private boolean allIntegers = true;
  private final List<ByteString> bytes = new ArrayList<>();
  private int size;
  private int elements;
  private long[] elementShape;

  /**
   * @param batched true for the row format, where each element read is one instance and the
   *     tensor's 0-th dimension counts them; false for one whole tensor
   */
  JsonTensorBuilder(String name, boolean batched) {
    this.name = name;
    this.batched = batched;
  }

  String name() {
    return name;
  }

  /** How messages name this tensor; a request's single unnamed input has no name. */
  private String describe(boolean capitalised) {
    if (name.isEmpty()) {
      return capitalised ? "The input" : "the input";
    }
    return (capitalised ? "Input '" : "input '") + name + "'";
  }

  int elements() {
    return elements;
  }

  /** Reads the value at the parser's current token as one element (an instance, or the tensor). */
  void readElement(JsonParser parser) throws IOException {
    NestedShape shape = new NestedShape();
    readValue(parser, 0, shape);
    finishElement(shape.dims());
  }

  /** Reads a {"b64": "..."} element whose parser stands on the "b64" key. */
  void readBase64Element(JsonParser parser) throws IOException {
    addBytes(readBase64(parser));
    finishElement(new long[0]);
  }

  private void finishElement(long[] actual) {
    if (!batched && elements > 0) {
      throw ServingException.invalidArgument(describe(true) + " is given more than once");
    }
    if (elementShape == null) {
      elementShape = actual;
    } else if (!Arrays.equals(elementShape, actual)) {
      throw ServingException.invalidArgument("The shape of every instance of " + describe(false)
          + " must be the same: " + Arrays.toString(elementShape) + " vs " + Arrays.toString(actual));
    }
    elements++;
  }

  /** The tensor as {@code dtype}, with its shape checked against the values read. */
  TensorProto build(DataType dtype) {
    long[] dims = shape();
    TensorProto.Builder tensor = TensorProto.newBuilder().setDtype(dtype).setTensorShape(shapeProto(dims));
    if (size == 0) {
      return tensor.build();
    }
    switch (dtype) {
      case DT_FLOAT -> {
        requireKind(Kind.NUMBER, dtype);
        ByteBuffer out = little(size * 4);
        for (int i = 0; i < size; i++) {
          out.putFloat((float) number(i));
        }
        tensor.setTensorContent(UnsafeByteOperations.unsafeWrap(out.array()));
      }
      case DT_DOUBLE -> {
        requireKind(Kind.NUMBER, dtype);
        ByteBuffer out = little(size * 8);
        for (int i = 0; i < size; i++) {
          out.putDouble(number(i));
        }
        tensor.setTensorContent(UnsafeByteOperations.unsafeWrap(out.array()));
      }
      case DT_INT32 -> {
        requireIntegers(dtype);
        ByteBuffer out = little(size * 4);
        for (int i = 0; i < size; i++) {
          if (values[i] != (int) values[i]) {
            throw ServingException.invalidArgument(describe(true) + " value " + values[i]
                + " does not fit DT_INT32");
          }
          out.putInt((int) values[i]);
        }
        tensor.setTensorContent(UnsafeByteOperations.unsafeWrap(out.array()));
      }
      case DT_INT64 -> {
        requireIntegers(dtype);
        ByteBuffer out = little(size * 8);
        for (int i = 0; i < size; i++) {
          out.putLong(values[i]);
        }
        tensor.setTensorContent(UnsafeByteOperations.unsafeWrap(out.array()));
      }
      case DT_BOOL -> {
        requireKind(Kind.BOOL, dtype);
        byte[] out = new byte[size];
        for (int i = 0; i < size; i++) {
          out[i] = (byte) values[i];
        }
        tensor.setTensorContent(UnsafeByteOperations.unsafeWrap(out));
      }
      case DT_STRING -> {
        requireKind(Kind.BYTES, dtype);
        tensor.addAllStringVal(bytes);
      }
      default -> throw ServingException.invalidArgument(describe(true) + " has dtype " + dtype
          + ", which the JSON API does not support");
    }
    return tensor.build();
  }

  /** A one-dimensional tensor's values as text: entity ids, whether sent as strings or numbers. */
  List<String> texts() {
    if (shape().length != 1) {
      throw ServingException.invalidArgument(describe(true) + " must hold one id per instance");
    }
    List<String> texts = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      switch (kind) {
        case BYTES -> texts.add(bytes.get(i).toStringUtf8());
        case NUMBER -> texts.add(allIntegers ? Long.toString(values[i]) : Double.toString(number(i)));
        default -> throw ServingException.invalidArgument(describe(true) + " must hold strings or numbers");
      }
    }
    return texts;
  }

  /** The inferred shape: the element's nesting, led by the instance count in the row format. */
  long[] shape() {
    long[] element = elementShape == null ? new long[0] : elementShape;
    if (!batched) {
      return element;
    }
    long[] dims = new long[element.length + 1];
    dims[0] = elements;
    System.arraycopy(element, 0, dims, 1, element.length);
    return dims;
  }

  static TensorShapeProto shapeProto(long[] dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (long dim : dims) {
      shape.addDimBuilder().setSize(dim);
    }
    return shape.build();
  }

  private void readValue(JsonParser parser, int depth, NestedShape shape) throws IOException {
    JsonToken token = parser.currentToken();
    if (token != JsonToken.START_ARRAY) {
      shape.leafAt(depth);
      readScalar(parser, token);
      return;
    }
    int length = 0;
    while (parser.nextToken() != JsonToken.END_ARRAY) {
      readValue(parser, depth + 1, shape);
      length++;
    }
    if (length == 0) {
      shape.leafAt(depth + 1);
    }
    shape.length(depth, length);
  }

  /** The dimensions of one nested JSON list, which must not be ragged. */
  private final class NestedShape {
    private static final int MAX_RANK = TensorLimits.MAX_RANK;
    private final long[] lengths = new long[MAX_RANK];
    private final boolean[] known = new boolean[MAX_RANK];
    private int rank = -1;

    void leafAt(int depth) {
      if (depth >= MAX_RANK) {
        throw ServingException.invalidArgument(describe(true) + " is nested too deeply");
      }
      if (rank >= 0 && rank != depth) {
        throw ragged();
      }
      rank = depth;
    }

    void length(int depth, int length) {
      if (!known[depth]) {
        known[depth] = true;
        lengths[depth] = length;
      } else if (lengths[depth] != length) {
        throw ragged();
      }
    }

    long[] dims() {
      return Arrays.copyOf(lengths, Math.max(rank, 0));
    }
  }

  private ServingException ragged() {
    return ServingException.invalidArgument(describe(true)
        + " is a ragged list: every nested list at one depth must have the same length");
  }

  private void readScalar(JsonParser parser, JsonToken token) throws IOException {
    switch (token) {
      case VALUE_NUMBER_INT -> {
        if (parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
          throw ServingException.invalidArgument(describe(true) + " value "
              + parser.getText() + " is out of the int64 range");
        }
        setKind(Kind.NUMBER);
        long value = parser.getLongValue();
        add(allIntegers ? value : Double.doubleToRawLongBits(value));
      }
      case VALUE_NUMBER_FLOAT -> {
        setKind(Kind.NUMBER);
        if (allIntegers) {
          for (int i = 0; i < size; i++) {
            values[i] = Double.doubleToRawLongBits(values[i]);
          }
          allIntegers = false;
        }
        add(Double.doubleToRawLongBits(parser.getDoubleValue()));
      }
      case VALUE_TRUE, VALUE_FALSE -> {
        setKind(Kind.BOOL);
        add(token == JsonToken.VALUE_TRUE ? 1 : 0);
      }
      case VALUE_STRING -> addBytes(ByteString.copyFromUtf8(parser.getText()));
      case START_OBJECT -> {
        parser.nextToken();
        addBytes(readBase64(parser));
      }
      default -> throw ServingException.invalidArgument(describe(true) + " holds an unsupported "
          + "JSON value: " + parser.getText());
    }
  }

  /** Reads the rest of a {"b64": "..."} object; the parser stands on its first key. */
  private ByteString readBase64(JsonParser parser) throws IOException {
    if (parser.currentToken() != JsonToken.FIELD_NAME || !"b64".equals(parser.currentName())
        || parser.nextToken() != JsonToken.VALUE_STRING) {
      throw ServingException.invalidArgument("Input '" + name
          + "': a JSON object value must be {\"b64\": \"<base64 string>\"}");
    }
    byte[] decoded;
    try {
      decoded = Base64.getDecoder().decode(parser.getText());
    } catch (IllegalArgumentException e) {
      throw ServingException.invalidArgument(describe(true) + " has invalid base64: " + e.getMessage());
    }
    if (parser.nextToken() != JsonToken.END_OBJECT) {
      throw ServingException.invalidArgument("Input '" + name
          + "': a {\"b64\": ...} object must have no other keys");
    }
    return UnsafeByteOperations.unsafeWrap(decoded);
  }

  private void add(long value) {
    if (size == values.length) {
      values = Arrays.copyOf(values, size * 2);
    }
    values[size++] = value;
  }

  /** The i-th number as a double, however it is stored. */
  private double number(int i) {
    return allIntegers ? values[i] : Double.longBitsToDouble(values[i]);
  }

  private void addBytes(ByteString value) {
    setKind(Kind.BYTES);
    bytes.add(value);
    size++;
  }

  private void setKind(Kind next) {
    if (kind != Kind.NONE && kind != next) {
      throw ServingException.invalidArgument(describe(true) + " mixes JSON value types ("
          + kind.name().toLowerCase() + " and " + next.name().toLowerCase() + ")");
    }
    kind = next;
  }

  private void requireKind(Kind expected, DataType dtype) {
    if (kind != expected) {
      throw ServingException.invalidArgument(describe(true) + " expects " + dtype + " but the JSON holds "
          + kind.name().toLowerCase() + " values");
    }
  }

  private void requireIntegers(DataType dtype) {
    requireKind(Kind.NUMBER, dtype);
    if (!allIntegers) {
      throw ServingException.invalidArgument(describe(true) + " expects " + dtype
          + " but the JSON holds non-integer numbers");
    }
  }

  private static ByteBuffer little(int bytes) {
    return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }
}
