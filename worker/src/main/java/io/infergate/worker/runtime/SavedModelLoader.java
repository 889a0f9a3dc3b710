package io.infergate.worker.runtime;

import io.infergate.common.ServableId;
import io.infergate.common.config.ConfigException;
import io.infergate.common.config.TextProtoFiles;
import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.infergate.proto.serving.BatchingParameters;
import io.infergate.worker.lifecycle.Loader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * Loads a TensorFlow SavedModel version: the bundle with the session options, its own batching
 * parameters when per-model batching is on, a warmup (its recorded requests, or a synthetic
 * one), and the measure of its runs' memory for the run memory limit, before it takes traffic.
 * Whatever fails after the bundle loaded closes it.
 */
public final class SavedModelLoader implements Loader<LoadedModel> {

  static final String BATCHING_PARAMS_FILE = "batching_params.pbtxt";

  private final SavedModelOptions options;

  public SavedModelLoader(SavedModelOptions options) {
    this.options = options;
  }

  @Override
  public LoadedModel load(ServableId id, Path directory) throws Exception {
    TensorFlowRuntime.start(options.session());
    long residentBefore = ResidentMemory.bytes();
    SavedModelServable servable = SavedModelServable.load(id, directory, options.session());
    try {
      BatchingParameters batching = null;
      Path params = directory.resolve(BATCHING_PARAMS_FILE);
      if (options.perModelBatching() && Files.isRegularFile(params)) {
        batching = TextProtoFiles.read(params, BatchingParameters.getDefaultInstance());
      }
      Warmup.Result warmedUp = options.warmup() ? Warmup.run(servable, directory, options.warmupIterations())
          : new Warmup.Result(0, Set.of());
      // Measured after warmup: TensorFlow allocates much of what a version holds on its first runs.
      // Before the run memory is: its larger runs' buffers are not what the version holds.
      long footprint = ResidentMemory.footprint(residentBefore, ResidentMemory.bytes(), directory);
      if (options.runMemoryLimitBytes() > 0) {
        servable.guardMemory(RunMemoryGuard.measure(servable, options.runMemoryLimitBytes()));
      }
      return new LoadedModel(servable, batching, warmedUp, footprint);
    } catch (Exception | Error e) {
      servable.close();
      if (e instanceof ConfigException || e instanceof ServingException) {
        throw e;
      }
      throw new ServingException(StatusCode.FAILED_PRECONDITION, "Warmup of " + id + " failed: " + e.getMessage());
    }
  }
}
