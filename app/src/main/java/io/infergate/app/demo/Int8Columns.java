package io.infergate.app.demo;

/**
 * A float matrix quantized to int8, symmetric, with one scale per column (output unit): a weight
 * w is stored as q = round(w / scale) in [-127, 127], and read back as q * scale, where scale is
 * the column's largest |w| / 127. Per-column scales keep a unit with small weights from losing
 * its resolution to a unit with large ones.
 */
record Int8Columns(int rows, int cols, byte[] values, float[] scales) {

  static Int8Columns quantize(float[] matrix, int rows, int cols) {
    if (matrix.length != rows * cols) {
      throw new IllegalArgumentException("A " + rows + "x" + cols + " matrix has " + rows * cols + " values, not " + matrix.length);
    }
    float[] scales = new float[cols];
    for (int c = 0; c < cols; c++) {
      float largest = 0;
      for (int r = 0; r < rows; r++) {
        largest = Math.max(largest, Math.abs(matrix[r * cols + c]));
      }
      scales[c] = largest == 0 ? 1 : largest / 127;
    }
    byte[] values = new byte[matrix.length];
    for (int i = 0; i < matrix.length; i++) {
      values[i] = (byte) Math.max(-127, Math.min(127, Math.round(matrix[i] / scales[i % cols])));
    }
    return new Int8Columns(rows, cols, values, scales);
  }

  /** The float matrix the stored values stand for. */
  float[] dequantize() {
    float[] matrix = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      matrix[i] = values[i] * scales[i % cols];
    }
    return matrix;
  }

  /** What the matrix takes in a checkpoint: a byte per weight and a float per column. */
  long bytes() {
    return values.length + 4L * scales.length;
  }
}
