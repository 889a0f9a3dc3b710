package io.infergate.worker.runtime;

/**
 * How SavedModel versions are loaded.
 *
 * @param warmup replay warmup requests (or a synthetic one) before a version takes traffic
 * @param warmupIterations times each warmup record is replayed
 * @param perModelBatching read batching_params.pbtxt from each version's folder
 * @param runMemoryLimitBytes the estimated peak memory one run may take ({@link RunMemoryGuard});
 *     0 = unguarded
 */
public record SavedModelOptions(SessionOptions session, boolean warmup, int warmupIterations,
                                boolean perModelBatching, long runMemoryLimitBytes) {

  public static final SavedModelOptions DEFAULT = new SavedModelOptions(SessionOptions.DEFAULT, true, 1, false, 0);
}
