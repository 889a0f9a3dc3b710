package io.infergate.worker.runtime;

import io.infergate.common.ServableId;
import io.infergate.proto.serving.BatchingParameters;
import io.infergate.proto.serving.SignatureDefMap;
import io.infergate.worker.lifecycle.LoadedServable;
import java.util.Map;

/**
 * A SavedModel version ready for traffic.
 *
 * @param batching the version's own batching parameters ({@code batching_params.pbtxt}), or null for the server's
 * @param warmup how it was warmed up
 * @param memoryBytes what it holds in memory, measured at load ({@link ResidentMemory})
 */
public record LoadedModel(SavedModelServable servable, BatchingParameters batching, Warmup.Result warmup,
                          long memoryBytes) implements LoadedServable {

  @Override
  public ServableId id() {
    return servable.id();
  }

  @Override
  public SignatureDefMap signatures() {
    return servable.signatures();
  }

  @Override
  public Map<String, String> invalidSignatures() {
    return servable.invalidSignatures();
  }

  @Override
  public String describe() {
    return "warmed up with " + warmup.requests() + " requests; runs on "
        + (warmup.devices().isEmpty() ? "(unknown: no warmup request ran)" : warmup.devices())
        + "; " + servable.memoryGuard().describe();
  }

  @Override
  public void close() {
    servable.close();
  }
}
