package io.infergate.worker.batching;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The tuner's rules, fed synthetic periods: no threads, no clocks. */
class LatencyTargetTunerTest {

  static final long MS = 1_000_000;
  static final long TARGET = 30 * MS;
  static final long PERIOD = LatencyTargetTuner.PERIOD_NANOS;

  long now;
  final LatencyTargetTuner tuner = new LatencyTargetTuner(TARGET, 256, 1, now);

  /** One period with {@code requests} requests of the given latency, in batches of the given run time and rows. */
  void period(int requests, long latency, int batches, long run, long rows) {
    for (int i = 0; i < requests; i++) {
      tuner.recordRequest(latency);
    }
    for (int i = 0; i < batches; i++) {
      tuner.recordBatch(run, rows);
    }
    now += PERIOD;
    tuner.adjust(now);
  }

  @Test
  void busyThreadsWithRoomToSpareGrowTheTimeoutInStepsUpToAQuarterOfTheTarget() {
    // 80 batches of 1 ms in 100 ms: 80 % busy; requests take 5 ms, far under 30.
    period(400, 5 * MS, 80, MS, 5);
    assertThat(tuner.timeoutNanos()).isEqualTo(TARGET / 64);
    for (int i = 0; i < 100; i++) {
      period(400, 5 * MS, 80, MS, 5);
    }
    assertThat(tuner.timeoutNanos()).isEqualTo(TARGET / 4);
    assertThat(tuner.batchSize()).isEqualTo(256);
  }

  @Test
  void aMissedTargetHalvesTheTimeoutAndShrinksBatchesOnlyWhenTheirRunIsTheCause() {
    for (int i = 0; i < 8; i++) {
      period(400, 5 * MS, 80, MS, 5);
    }
    long grown = tuner.timeoutNanos();
    period(400, 40 * MS, 80, MS, 5);
    assertThat(tuner.timeoutNanos()).isEqualTo(grown / 2);
    assertThat(tuner.batchSize()).isEqualTo(256);
    period(400, 40 * MS, 4, 20 * MS, 256);
    assertThat(tuner.timeoutNanos()).isEqualTo(grown / 4);
    assertThat(tuner.batchSize()).isEqualTo(192);
  }

  @Test
  void idleThreadsLetTheTimeoutDecayToZero() {
    for (int i = 0; i < 8; i++) {
      period(400, 5 * MS, 80, MS, 5);
    }
    for (int i = 0; i < 10; i++) {
      period(100, 2 * MS, 10, MS, 1);
    }
    assertThat(tuner.timeoutNanos()).isZero();
  }

  @Test
  void aPeriodWithTooFewRequestsChangesNothing() {
    period(LatencyTargetTuner.MIN_SAMPLES - 1, 500 * MS, 5, 100 * MS, 1);
    assertThat(tuner.timeoutNanos()).isZero();
    assertThat(tuner.batchSize()).isEqualTo(256);
  }

  @Test
  void admitsWhileTheRowsAheadCanRunWithinTheTarget() {
    assertThat(tuner.admits(1_000_000, 1)).as("nothing measured yet").isTrue();
    // 1 row per ms on one thread, batches of 1 ms: after the running batch, about 28 rows ahead fit in 30 ms.
    period(400, 5 * MS, 100, MS, 1);
    assertThat(tuner.admits(28, 1)).isTrue();
    assertThat(tuner.admits(31, 1)).isFalse();
  }

  @Test
  void aRequestWithNothingAheadIsAlwaysTakenSoTheTunerKeepsLearning() {
    // Batches of 256 rows that take 100 ms, three times the target: only a shorter batch can help.
    period(400, 150 * MS, 4, 100 * MS, 256);
    assertThat(tuner.admits(2, 1)).isFalse();
    assertThat(tuner.admits(32, 32)).isTrue();
    assertThat(tuner.batchSize()).isEqualTo(192);
  }
}
