package io.infergate.worker;

import io.infergate.proto.serving.BatchingParameters;
import io.infergate.proto.serving.ModelServerConfig;
import io.infergate.worker.lifecycle.ManagerOptions;
import io.infergate.worker.lifecycle.ModelRoots;
import io.infergate.worker.runtime.SavedModelOptions;
import java.nio.file.Path;

/**
 * Everything a worker needs to know to start serving.
 *
 * @param modelConfigFile where the config came from, re-read every {@code configPollSeconds}
 *     when both are set; null in single-model mode
 * @param fileSystemPollSeconds how often model folders are scanned for versions; 0 = once
 * @param batching the server's batching parameters, or null when batching is off
 * @param allowedRoots where a model config sent by a client may load models from
 */
public record WorkerOptions(
    ModelServerConfig modelConfig,
    Path modelConfigFile,
    int configPollSeconds,
    int fileSystemPollSeconds,
    ManagerOptions lifecycle,
    SavedModelOptions loader,
    BatchingParameters batching,
    int inferenceThreads,
    int loadThreads,
    ModelRoots allowedRoots) {

  public WorkerOptions {
    if (inferenceThreads < 1 || loadThreads < 1) {
      throw new IllegalArgumentException("Thread pools need at least one thread");
    }
  }
}
