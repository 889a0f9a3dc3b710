package io.infergate.worker.lifecycle;

import io.infergate.common.ServableId;
import io.infergate.worker.runtime.SavedModelServable;
import io.vertx.core.Future;

/** Whatever puts loaded servables in front of traffic, and takes them away again. */
public interface ServableHost {

  /** Starts taking requests for a loaded servable. */
  Future<Void> serve(SavedModelServable servable);

  /** Stops taking new requests for a servable and completes once those in flight are done. */
  Future<Void> stopServing(ServableId id);
}
