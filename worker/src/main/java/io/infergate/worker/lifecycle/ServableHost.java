package io.infergate.worker.lifecycle;

import io.infergate.common.ServableId;
import io.infergate.proto.serving.BatchingParameters;
import io.infergate.worker.runtime.SavedModelServable;
import io.vertx.core.Future;

/** Whatever puts loaded servables in front of traffic, and takes them away again. */
public interface ServableHost {

  /**
   * Starts taking requests for a loaded, warmed-up servable.
   *
   * @param batching the version's own batching parameters, or null for the server's
   */
  Future<Void> serve(SavedModelServable servable, BatchingParameters batching);

  /** Stops taking new requests for a servable and completes once those in flight are done. */
  Future<Void> stopServing(ServableId id);
}
