package io.infergate.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class PriorityTest {

  @ParameterizedTest
  @CsvSource({"high,HIGH", "HIGH,HIGH", " 1 ,HIGH", "normal,NORMAL", "2,NORMAL", "Low,LOW", "3,LOW"})
  void clientsNameAPriorityByNameOrLevel(String text, Priority expected) {
    assertThat(Priority.parse(text, Priority.LOW)).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "4", "-1", "urgent", "1e3", "highest"})
  void anythingElseIsTheClientsError(String text) {
    assertThatThrownBy(() -> Priority.parse(text, Priority.NORMAL))
        .isInstanceOfSatisfying(ServingException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT));
  }

  @ParameterizedTest
  @ValueSource(ints = {-1, 4, Integer.MAX_VALUE})
  void aWireLevelOutsideTheRangeIsRefused(int level) {
    assertThatThrownBy(() -> Priority.ofLevel(level, Priority.NORMAL)).isInstanceOf(ServingException.class);
  }

  @Test
  void unsetFallsBackToTheDefaultAndOrderIsByLevel() {
    assertThat(Priority.parse(null, Priority.LOW)).isEqualTo(Priority.LOW);
    assertThat(Priority.parse("  ", Priority.HIGH)).isEqualTo(Priority.HIGH);
    assertThat(Priority.ofLevel(0, Priority.LOW)).isEqualTo(Priority.LOW);
    assertThat(Priority.HIGH.isAbove(Priority.NORMAL)).isTrue();
    assertThat(Priority.LOW.isAbove(Priority.NORMAL)).isFalse();
    assertThat(Priority.NORMAL.isAbove(Priority.NORMAL)).isFalse();
    // A hostile value is not echoed back whole.
    assertThatThrownBy(() -> Priority.parse("x".repeat(10_000), Priority.NORMAL))
        .hasMessageContaining("xxx...").satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(200));
  }
}
