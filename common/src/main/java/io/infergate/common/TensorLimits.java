package io.infergate.common;

import io.infergate.common.status.ServingException;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * What a request's tensor may be before it goes anywhere near TensorFlow. TF's failed CHECKs
 * abort the whole process, not the request (a rank above 254, a dimension product that
 * overflows, a buffer that disagrees with its shape), so every tensor is checked here first: by
 * the gateway when a request is decoded, whatever its API, and by the worker before it makes a
 * native tensor. A tensor that passes is well formed; its values are TensorFlow's business.
 */
public final class TensorLimits {

  /** Far above any model input (images are rank 4, video 5), far below TF's 254. */
  public static final int MAX_RANK = 32;

  /** What each string element costs besides its bytes (TensorFlow's tstring), so a million empty strings count. */
  private static final long STRING_ELEMENT_BYTES = 24;

  /** What Java arrays and TF Java's buffers can index: the worker's limit whoever sent the request. */
  public static final TensorLimits NATIVE = new TensorLimits(Integer.MAX_VALUE - 8);

  private final long maxBytes;

  /** @param maxBytes the most one tensor may take once expanded (values repeated to fill its shape) */
  public TensorLimits(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  public long maxBytes() {
    return maxBytes;
  }

  /**
   * Checks a tensor's dtype, shape, size and the number of its values; returns its element count.
   *
   * @param name the input's name, for the message
   * @throws ServingException INVALID_ARGUMENT, or RESOURCE_EXHAUSTED when it is too large
   */
  public long check(String name, TensorProto tensor) {
    DataType dtype = tensor.getDtype();
    boolean strings = dtype == DataType.DT_STRING;
    int size = strings ? 0 : elementSize(dtype);
    long count = elementCount(name, tensor.getTensorShape());
    if (strings) {
      checkValues(name, tensor, tensor.getStringValCount(), count);
      long bytes = 0;
      for (int i = 0; i < tensor.getStringValCount(); i++) {
        bytes += tensor.getStringVal(i).size();
      }
      long perElement = tensor.getStringValCount() == count ? bytes / Math.max(1, count) : bytes;
      checkBytes(name, count, STRING_ELEMENT_BYTES + perElement);
      return count;
    }
    checkBytes(name, count, size);
    int content = tensor.getTensorContent().size();
    if (content > 0) {
      if (content != count * size) {
        throw ServingException.invalidArgument("Input '" + name + "': tensor_content of a " + dtype + " tensor with "
            + count + " elements must be " + count * size + " bytes, not " + content);
      }
      return count;
    }
    checkValues(name, tensor, typedValueCount(tensor), count);
    return count;
  }

  /** Checks a tensor about to be made from others (a padded batch): its shape, and its size at the least. */
  public long checkShape(String name, DataType dtype, TensorShapeProto shape) {
    long count = elementCount(name, shape);
    checkBytes(name, count, dtype == DataType.DT_STRING ? STRING_ELEMENT_BYTES : elementSize(dtype));
    return count;
  }

  /** The product of a shape's dimensions, which must all be known, be at most {@link #MAX_RANK}, and not overflow. */
  public static long elementCount(String name, TensorShapeProto shape) {
    if (shape.getUnknownRank()) {
      throw ServingException.invalidArgument("Input '" + name + "' has a shape of unknown rank");
    }
    if (shape.getDimCount() > MAX_RANK) {
      throw ServingException.invalidArgument("Input '" + name + "' has rank " + shape.getDimCount()
          + "; at most " + MAX_RANK + " dimensions are supported");
    }
    long count = 1;
    for (int i = 0; i < shape.getDimCount(); i++) {
      long dim = shape.getDim(i).getSize();
      if (dim < 0) {
        throw ServingException.invalidArgument("Input '" + name + "' has a dimension of unknown or negative size: "
            + dim);
      }
      try {
        count = Math.multiplyExact(count, dim);
      } catch (ArithmeticException overflow) {
        throw ServingException.invalidArgument("Input '" + name + "' has more elements than can be counted");
      }
    }
    return count;
  }

  /** Bytes per element of a fixed-size dtype Infergate serves. */
  public static int elementSize(DataType dtype) {
    return switch (dtype) {
      case DT_FLOAT, DT_INT32 -> 4;
      case DT_DOUBLE, DT_INT64 -> 8;
      case DT_BOOL -> 1;
      default -> throw unsupported(dtype);
    };
  }

  public static ServingException unsupported(DataType dtype) {
    return ServingException.invalidArgument("Unsupported dtype " + dtype
        + ": Infergate serves DT_FLOAT, DT_DOUBLE, DT_INT32, DT_INT64, DT_BOOL and DT_STRING");
  }

  /** The values a tensor without tensor_content holds in its typed field. */
  public static int typedValueCount(TensorProto tensor) {
    return switch (tensor.getDtype()) {
      case DT_FLOAT -> tensor.getFloatValCount();
      case DT_DOUBLE -> tensor.getDoubleValCount();
      case DT_INT32 -> tensor.getIntValCount();
      case DT_INT64 -> tensor.getInt64ValCount();
      case DT_BOOL -> tensor.getBoolValCount();
      case DT_STRING -> tensor.getStringValCount();
      default -> throw unsupported(tensor.getDtype());
    };
  }

  /** Values fill a shape exactly, or one value is repeated to fill it (as TensorFlow reads a proto). */
  private static void checkValues(String name, TensorProto tensor, int given, long count) {
    if (given != count && !(given == 1 && count > 0)) {
      throw ServingException.invalidArgument("Input '" + name + "': a " + tensor.getDtype() + " tensor of "
          + count + " elements needs " + count + " values, or one to repeat, but has " + given);
    }
  }

  /** A tensor too large to make is a bad request, not a reason to try again. */
  private void checkBytes(String name, long count, long bytesPerElement) {
    if (count > maxBytes / Math.max(1, bytesPerElement)) {
      throw ServingException.invalidArgument("Input '" + name + "' has " + count + " elements of "
          + bytesPerElement + " bytes, more than the limit of " + maxBytes + " bytes for one tensor");
    }
  }
}
