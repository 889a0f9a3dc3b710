package io.infergate.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import java.util.Collections;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/** Every tensor TensorFlow would abort on, or that would take more memory than a request may, is refused. */
class TensorLimitsTest {

  private static final TensorLimits LIMITS = new TensorLimits(1 << 20);

  static Stream<Arguments> refused() {
    return Stream.of(
        Arguments.of("rank 33", floats(shape(Collections.nCopies(33, 1L)), 1), "rank 33; at most 32"),
        Arguments.of("rank 300 and no elements", floats(shape(Collections.nCopies(300, 0L)), 0), "rank 300"),
        Arguments.of("unknown dimension", floats(shape(java.util.List.of(-1L, 2L)), 2), "unknown or negative size: -1"),
        Arguments.of("unknown rank", TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
            .setTensorShape(TensorShapeProto.newBuilder().setUnknownRank(true)).build(), "unknown rank"),
        Arguments.of("dimensions that overflow to 0", floats(shape(java.util.List.of(1L << 32, 1L << 32)), 0),
            "more elements than can be counted"),
        Arguments.of("dimensions that overflow to a small count", floats(shape(java.util.List.of(1L << 62, 4L, 3L)), 12),
            "more elements than can be counted"),
        Arguments.of("one value filling a huge shape", floats(shape(java.util.List.of(1L << 30)), 1),
            "more than the limit of 1048576 bytes"),
        Arguments.of("tensor_content too short", TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
            .setTensorShape(shape(java.util.List.of(4L))).setTensorContent(ByteString.copyFrom(new byte[8])).build(),
            "must be 16 bytes, not 8"),
        Arguments.of("too few values", floats(shape(java.util.List.of(3L)), 2), "needs 3 values, or one to repeat, but has 2"),
        Arguments.of("values in the wrong field", TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
            .setTensorShape(shape(java.util.List.of(1L))).addIntVal(1).build(), "but has 0"),
        Arguments.of("a million empty strings", TensorProto.newBuilder().setDtype(DataType.DT_STRING)
            .setTensorShape(shape(java.util.List.of(1_000_000L))).addStringVal(ByteString.EMPTY).build(),
            "more than the limit"),
        Arguments.of("a long string repeated", TensorProto.newBuilder().setDtype(DataType.DT_STRING)
            .setTensorShape(shape(java.util.List.of(1000L))).addStringVal(ByteString.copyFrom(new byte[2000])).build(),
            "more than the limit"),
        Arguments.of("an unsupported dtype", TensorProto.newBuilder().setDtype(DataType.DT_HALF)
            .setTensorShape(shape(java.util.List.of(1L))).build(), "Unsupported dtype DT_HALF"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refused")
  void refuses(String what, TensorProto tensor, String message) {
    assertThatThrownBy(() -> LIMITS.check("x", tensor)).isInstanceOfSatisfying(ServingException.class, e -> {
      assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
      assertThat(e.getMessage()).contains(message);
    });
  }

  @Test
  void acceptsWellFormedTensorsAndCountsTheirElements() {
    assertThat(LIMITS.check("x", floats(shape(java.util.List.of(2L, 3L)), 6))).isEqualTo(6);
    assertThat(LIMITS.check("x", floats(shape(java.util.List.of(2L, 3L)), 1))).as("one value fills").isEqualTo(6);
    assertThat(LIMITS.check("x", floats(shape(java.util.List.of(0L, 3L)), 0))).as("no elements").isZero();
    assertThat(LIMITS.check("x", floats(shape(Collections.nCopies(32, 1L)), 1))).as("rank 32").isEqualTo(1);
    assertThat(LIMITS.check("x", TensorProto.newBuilder().setDtype(DataType.DT_INT64)
        .setTensorShape(shape(java.util.List.of(2L))).setTensorContent(ByteString.copyFrom(new byte[16])).build()))
        .isEqualTo(2);
    assertThat(LIMITS.check("x", TensorProto.newBuilder().setDtype(DataType.DT_STRING)
        .setTensorShape(shape(java.util.List.of(2L))).addStringVal(ByteString.copyFromUtf8("a"))
        .addStringVal(ByteString.copyFromUtf8("bc")).build())).isEqualTo(2);
  }

  private static TensorShapeProto shape(java.util.List<Long> dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    dims.forEach(d -> shape.addDimBuilder().setSize(d));
    return shape.build();
  }

  private static TensorProto floats(TensorShapeProto shape, int values) {
    TensorProto.Builder tensor = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).setTensorShape(shape);
    for (int i = 0; i < values; i++) {
      tensor.addFloatVal(i);
    }
    return tensor.build();
  }
}
