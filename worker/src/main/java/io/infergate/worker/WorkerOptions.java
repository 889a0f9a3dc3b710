package io.infergate.worker;

import io.infergate.proto.serving.ModelServerConfig;
import io.infergate.worker.runtime.SessionOptions;

/** Everything a worker needs to know to start serving. */
public record WorkerOptions(
    ModelServerConfig modelConfig,
    SessionOptions sessionOptions,
    int inferenceThreads,
    int loadThreads,
    boolean allowLabelsForUnavailableModels) {

  public WorkerOptions {
    if (inferenceThreads < 1 || loadThreads < 1) {
      throw new IllegalArgumentException("Thread pools need at least one thread");
    }
  }
}
