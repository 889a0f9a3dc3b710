package io.infergate.worker.lifecycle;

import io.infergate.common.ServableId;
import java.nio.file.Path;

/**
 * Makes one version ready for traffic, TF Serving's Loader: whatever a format needs (reading,
 * warming up, per-version settings) happens here. Unloading is closing what it returned.
 *
 * @param <S> what it loads
 */
public interface Loader<S extends LoadedServable> {

  /** Blocking: the manager calls it on its load threads. A failure leaves nothing to free. */
  S load(ServableId id, Path directory) throws Exception;
}
