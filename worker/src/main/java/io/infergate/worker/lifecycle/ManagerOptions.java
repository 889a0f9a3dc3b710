package io.infergate.worker.lifecycle;

import io.infergate.proto.serving.ModelConfig;

/**
 * How the manager treats versions, whatever loads them.
 *
 * @param maxLoadRetries further attempts after a failed load (TF Serving's --max_num_load_retries)
 * @param loadRetryIntervalMillis pause between attempts
 * @param allowLabelsForUnavailableModels a config may label versions that are not available
 * @param memoryBudgetBytes the memory the worker's loaded versions may hold together
 * @param defaultPaging how a model whose config does not say is kept: PINNED (always loaded) or
 *     PAGEABLE (loaded on demand, evicted for room)
 */
public record ManagerOptions(int maxLoadRetries, long loadRetryIntervalMillis, boolean allowLabelsForUnavailableModels,
                             long memoryBudgetBytes, ModelConfig.Paging defaultPaging) {

  public static final ManagerOptions DEFAULT = new ManagerOptions(5, 60_000, false, MemoryBudget.defaultBytes(),
      ModelConfig.Paging.PINNED);
}
