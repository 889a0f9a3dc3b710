package io.infergate.app.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

class Int8ColumnsTest {

  @Test
  void eachColumnHasItsOwnScaleAndEveryWeightIsWithinHalfAStep() {
    Random random = new Random(3);
    int rows = 16;
    int cols = 4;
    float[] matrix = new float[rows * cols];
    for (int i = 0; i < matrix.length; i++) {
      // Column c spans about ±10^c: one shared scale would flatten the small columns to zero.
      matrix[i] = (float) (random.nextGaussian() * Math.pow(10, i % cols - 2));
    }
    Int8Columns q = Int8Columns.quantize(matrix, rows, cols);
    float[] restored = q.dequantize();
    for (int c = 0; c < cols; c++) {
      float largest = 0;
      for (int r = 0; r < rows; r++) {
        largest = Math.max(largest, Math.abs(matrix[r * cols + c]));
      }
      assertThat(q.scales()[c]).isCloseTo(largest / 127, within(1e-9f));
      boolean reachesTheEnd = false;
      for (int r = 0; r < rows; r++) {
        int i = r * cols + c;
        assertThat(restored[i]).isCloseTo(matrix[i], within(q.scales()[c] / 2 + 1e-7f));
        reachesTheEnd |= Math.abs(q.values()[i]) == 127;
      }
      assertThat(reachesTheEnd).as("the largest weight of column %d maps to ±127", c).isTrue();
    }
    assertThat(q.bytes()).isEqualTo(rows * cols + 4L * cols);
  }

  @Test
  void aColumnOfZerosStaysZeroAndNothingLeavesTheSymmetricRange() {
    Int8Columns q = Int8Columns.quantize(new float[] {0, 1, 0, -1, 0, 0.5f}, 3, 2);
    assertThat(q.dequantize()).containsExactly(new float[] {0, 1, 0, -1, 0, 64 / 127f}, within(1e-6f));
    for (byte value : q.values()) {
      assertThat((int) value).isBetween(-127, 127);
    }
    assertThatThrownBy(() -> Int8Columns.quantize(new float[5], 2, 3)).isInstanceOf(IllegalArgumentException.class);
  }
}
