package io.infergate.common;

import static org.assertj.core.api.Assertions.assertThat;

import io.infergate.common.status.StatusCode;
import org.tensorflow.proto.error.Code;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class StatusCodeTest {

  @ParameterizedTest
  @CsvSource({
      "OK, 200", "CANCELLED, 499", "INVALID_ARGUMENT, 400", "FAILED_PRECONDITION, 400", "OUT_OF_RANGE, 400",
      "UNAUTHENTICATED, 401", "PERMISSION_DENIED, 403", "NOT_FOUND, 404", "ALREADY_EXISTS, 409", "ABORTED, 409",
      "RESOURCE_EXHAUSTED, 429", "UNIMPLEMENTED, 501", "UNAVAILABLE, 503", "DEADLINE_EXCEEDED, 504",
      "UNKNOWN, 500", "INTERNAL, 500", "DATA_LOSS, 500"})
  void mapsToTensorFlowServingsHttpCodes(StatusCode code, int http) {
    assertThat(code.httpStatus()).isEqualTo(http);
  }

  @ParameterizedTest
  @EnumSource(StatusCode.class)
  void numbersAreTheCanonicalCodesTensorFlowAndGrpcShare(StatusCode code) {
    assertThat(code.number()).isEqualTo(Code.valueOf(code.name()).getNumber());
    assertThat(StatusCode.ofNumber(code.number())).isEqualTo(code);
  }
}
