package io.infergate.common;

import org.tensorflow.proto.TensorShapeProto;

/** Shapes of tensors on the request path, read without streams or boxing: this runs per tensor per request. */
public final class TensorShapes {

  private TensorShapes() {}

  public static long[] dims(TensorShapeProto shape) {
    int rank = shape.getDimCount();
    long[] dims = new long[rank];
    for (int i = 0; i < rank; i++) {
      dims[i] = shape.getDim(i).getSize();
    }
    return dims;
  }
}
