package io.infergate.worker.lifecycle;

import io.infergate.worker.runtime.SessionOptions;

/**
 * How servables are loaded.
 *
 * @param maxLoadRetries further attempts after a failed load (TF Serving's --max_num_load_retries)
 * @param loadRetryIntervalMillis pause between attempts
 * @param warmup replay warmup requests (or a synthetic one) before a version takes traffic
 * @param warmupIterations times each warmup record is replayed
 * @param perModelBatching read batching_params.pbtxt from each version's folder
 */
public record LoaderOptions(SessionOptions session, int maxLoadRetries, long loadRetryIntervalMillis,
                            boolean warmup, int warmupIterations, boolean perModelBatching,
                            boolean allowLabelsForUnavailableModels) {

  public static final LoaderOptions DEFAULT =
      new LoaderOptions(SessionOptions.DEFAULT, 5, 60_000, true, 1, false, false);
}
