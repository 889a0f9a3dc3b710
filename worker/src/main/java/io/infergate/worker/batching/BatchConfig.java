package io.infergate.worker.batching;

import io.infergate.common.config.ConfigException;
import io.infergate.proto.serving.BatchingParameters;
import java.util.List;

/**
 * TF Serving's batching parameters with its defaults filled in and checked.
 *
 * @param maxBatchSize most rows a batch holds
 * @param batchTimeoutMicros longest a batch that is not full waits for more requests
 * @param maxEnqueuedBatches batches a servable's queue holds before it rejects new work
 * @param numBatchThreads batches that run at once, across all servables
 * @param allowedBatchSizes sizes a batch is padded up to; empty = no padding
 * @param padVariableLengthInputs pad inputs' inner dimensions to the batch's largest
 * @param latencyTargetMicros the P99 latency the model declares (Infergate's addition); when
 *     positive, the batch timeout and size are tuned online to hold it, with {@code maxBatchSize}
 *     as the size's bound, and {@code batchTimeoutMicros} is not used
 */
public record BatchConfig(int maxBatchSize, long batchTimeoutMicros, int maxEnqueuedBatches,
                          int numBatchThreads, List<Integer> allowedBatchSizes,
                          boolean padVariableLengthInputs, long latencyTargetMicros) {

  public BatchConfig {
    allowedBatchSizes = List.copyOf(allowedBatchSizes);
  }

  /** From the text-format parameters, with BasicBatchScheduler's defaults for unset fields. */
  public static BatchConfig of(BatchingParameters parameters, int cores) {
    int max = parameters.hasMaxBatchSize() ? Math.toIntExact(parameters.getMaxBatchSize().getValue()) : 1000;
    long timeout = parameters.hasBatchTimeoutMicros() ? parameters.getBatchTimeoutMicros().getValue() : 0;
    int enqueued = parameters.hasMaxEnqueuedBatches()
        ? Math.toIntExact(parameters.getMaxEnqueuedBatches().getValue()) : 10;
    int threads = parameters.hasNumBatchThreads()
        ? Math.toIntExact(parameters.getNumBatchThreads().getValue()) : cores;
    List<Integer> allowed = parameters.getAllowedBatchSizesList().stream().map(Math::toIntExact).toList();
    if (max < 1 || timeout < 0 || enqueued < 1 || threads < 1) {
      throw new ConfigException("Batching parameters need max_batch_size, max_enqueued_batches and "
          + "num_batch_threads of at least 1 and a non-negative batch_timeout_micros");
    }
    for (int i = 0; i < allowed.size(); i++) {
      if (allowed.get(i) < 1 || i > 0 && allowed.get(i) <= allowed.get(i - 1)) {
        throw new ConfigException("allowed_batch_sizes must be positive and increasing: " + allowed);
      }
    }
    if (!allowed.isEmpty() && allowed.get(allowed.size() - 1) != max) {
      throw new ConfigException("The last entry of allowed_batch_sizes (" + allowed.get(allowed.size() - 1)
          + ") must equal max_batch_size (" + max + ")");
    }
    if (parameters.getEnableLargeBatchSplitting().getValue()) {
      throw new ConfigException("enable_large_batch_splitting is not supported: requests larger than "
          + "max_batch_size are rejected");
    }
    return new BatchConfig(max, timeout, enqueued, threads, allowed, parameters.getPadVariableLengthInputs(), 0);
  }

  /** These parameters tuned online to hold a P99 of {@code micros} (0: fixed, as configured). */
  public BatchConfig withLatencyTarget(long micros) {
    if (micros < 0) {
      throw new ConfigException("latency_target_micros must not be negative: " + micros);
    }
    return new BatchConfig(maxBatchSize, batchTimeoutMicros, maxEnqueuedBatches, numBatchThreads, allowedBatchSizes,
        padVariableLengthInputs, micros);
  }

  /** The size a batch of {@code rows} runs at: the next allowed size, or {@code rows} itself. */
  public int paddedSize(int rows) {
    for (int size : allowedBatchSizes) {
      if (size >= rows) {
        return size;
      }
    }
    return rows;
  }
}
