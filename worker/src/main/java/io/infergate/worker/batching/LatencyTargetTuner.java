package io.infergate.worker.batching;

import java.util.Arrays;

/**
 * Tunes one batch queue's timeout and batch size online to hold a latency target (a request's
 * P99 of queue wait plus run time), instead of fixed parameters tuned by hand.
 *
 * <p>Once per period it looks at what the queue measured: when the P99 misses the target, it
 * halves the timeout, and shrinks the batch size when the batches' own run time is the cause;
 * when the batch threads are mostly idle, the timeout decays to zero (waiting buys nothing then);
 * when they are busy and the P99 has room, the timeout grows (fewer, larger TensorFlow calls
 * leave CPU to the rest of the process) and so does the size limit. Independently, a request is
 * refused at once when the rows queued ahead of it could not run within the target: under
 * overload the queue sheds instead of making every request late. A request that finds nothing
 * queued ahead is always taken, so the tuner keeps measuring (and shrinking batches whose own run
 * is too long) however badly a period went.
 *
 * <p>Thread-safe: samples come from the batch threads, decisions are read under the scheduler's lock.
 */
public final class LatencyTargetTuner {

  static final long PERIOD_NANOS = 100_000_000;
  /** Below this many samples a period says too little to act on. */
  static final int MIN_SAMPLES = 20;
  private static final int MAX_SAMPLES = 2048;

  private final long targetNanos;
  private final int maxBatchSize;
  private final long maxTimeoutNanos;
  private final int threads;
  private final long timeoutStep;
  private final int sizeStep;
  private final long[] latencies = new long[MAX_SAMPLES];
  private final long[] runs = new long[MAX_SAMPLES];
  private int latencyCount;
  private int runCount;
  private long busyNanos;
  private long periodStart;
  /** Rows a batch thread runs per nanosecond, smoothed over recent batches; 0 until measured. */
  private double rowsPerNano;
  /** A batch's run time, smoothed: what a request waits on average for the batch running ahead of it. */
  private double runMean;
  private volatile long timeoutNanos;
  private volatile int batchSize;

  /**
   * @param targetNanos the P99 a request's wait and run should stay under
   * @param maxBatchSize the largest batch the model takes (max_batch_size)
   * @param threads the batch threads that run the queue's batches
   */
  public LatencyTargetTuner(long targetNanos, int maxBatchSize, int threads, long now) {
    this.targetNanos = targetNanos;
    this.maxBatchSize = maxBatchSize;
    this.threads = threads;
    this.maxTimeoutNanos = targetNanos / 4;
    this.timeoutStep = Math.max(1_000, targetNanos / 64);
    this.sizeStep = Math.max(1, maxBatchSize / 16);
    this.batchSize = maxBatchSize;
    this.periodStart = now;
  }

  public long timeoutNanos() {
    return timeoutNanos;
  }

  public int batchSize() {
    return batchSize;
  }

  /** One request's time from entering the queue to its batch's end. */
  public synchronized void recordRequest(long latencyNanos) {
    if (latencyCount < MAX_SAMPLES) {
      latencies[latencyCount++] = latencyNanos;
    }
  }

  /** One batch run of {@code rows} rows. */
  public synchronized void recordBatch(long runNanos, long rows) {
    if (runCount < MAX_SAMPLES) {
      runs[runCount++] = runNanos;
    }
    busyNanos += runNanos;
    double rate = rows / (double) Math.max(1, runNanos);
    rowsPerNano = rowsPerNano == 0 ? rate : 0.9 * rowsPerNano + 0.1 * rate;
    runMean = runMean == 0 ? runNanos : 0.9 * runMean + 0.1 * runNanos;
  }

  /**
   * Whether a request of {@code rows} rows may join when {@code rowsAhead} rows (its own
   * included) would run before it: false when, after the batch running now, they could not run
   * within the target. Always true when nothing else is queued, and until a batch has run.
   */
  public synchronized boolean admits(long rowsAhead, long rows) {
    if (rowsPerNano == 0 || rowsAhead <= rows) {
      return true;
    }
    double waitNanos = runMean + rowsAhead / (rowsPerNano * threads);
    return timeoutNanos + waitNanos <= targetNanos;
  }

  /** Acts on the period's samples once a period has passed; call after each batch. */
  public synchronized void adjust(long now) {
    long elapsed = now - periodStart;
    if (elapsed < PERIOD_NANOS || latencyCount < MIN_SAMPLES) {
      return;
    }
    long latencyP99 = p99(latencies, latencyCount);
    long runP99 = p99(runs, runCount);
    double utilisation = busyNanos / ((double) elapsed * threads);
    if (latencyP99 > targetNanos) {
      timeoutNanos /= 2;
      if (runP99 > targetNanos / 2) {
        batchSize = Math.max(1, batchSize * 3 / 4);
      }
    } else if (utilisation < 0.5) {
      timeoutNanos = timeoutNanos < 2 * timeoutStep ? 0 : timeoutNanos / 2;
    } else if (latencyP99 < targetNanos * 7 / 10) {
      timeoutNanos = Math.min(maxTimeoutNanos, timeoutNanos + timeoutStep);
      batchSize = Math.min(maxBatchSize, batchSize + sizeStep);
    }
    latencyCount = 0;
    runCount = 0;
    busyNanos = 0;
    periodStart = now;
  }

  private static long p99(long[] samples, int count) {
    if (count == 0) {
      return 0;
    }
    long[] sorted = Arrays.copyOf(samples, count);
    Arrays.sort(sorted);
    return sorted[Math.min(count - 1, (int) Math.ceil(count * 0.99) - 1)];
  }
}
