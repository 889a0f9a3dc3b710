package io.infergate.loadtest;

import io.vertx.core.Vertx;

/**
 * The open loop's clock: request {@code n} is due at {@code start + n / rate} and is sent then,
 * whatever became of the ones before, checked every millisecond.
 */
final class OpenLoopSchedule {

  /** Sends request {@code n}, due at {@code dueNanos}. */
  interface Send {
    void send(long n, long dueNanos);
  }

  private OpenLoopSchedule() {}

  /** Starts sending {@code total} requests at {@code rate} per second from {@code startNanos}; returns the timer. */
  static long start(Vertx vertx, int rate, long total, long startNanos, Send send) {
    double intervalNanos = 1e9 / rate;
    long[] sent = {0};
    return vertx.setPeriodic(1, id -> {
      long now = System.nanoTime();
      while (sent[0] < total) {
        long due = startNanos + (long) (sent[0] * intervalNanos);
        if (due > now) {
          break;
        }
        send.send(sent[0]++, due);
      }
    });
  }
}
