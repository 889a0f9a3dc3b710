package io.infergate.common.registry;

import io.infergate.common.ServableId;
import io.infergate.common.status.StatusCode;
import io.infergate.proto.serving.ModelVersionStatus.State;
import io.infergate.proto.serving.SignatureDefMap;
import java.util.List;

/**
 * What the registry knows of one servable: its lifecycle state, the error of a failed load,
 * once loaded its signatures (so gateways decode and describe requests without asking a
 * worker), and the workers it is AVAILABLE on. A worker publishes its own record; the routing
 * snapshot merges the records of every worker.
 */
public record ServableRecord(
    ServableId id, State state, StatusCode errorCode, String errorMessage,
    SignatureDefMap signatures, List<String> workers) {

  public ServableRecord {
    workers = List.copyOf(workers);
  }

  public static ServableRecord of(ServableId id, State state) {
    return new ServableRecord(id, state, StatusCode.OK, "", SignatureDefMap.getDefaultInstance(), List.of());
  }

  public static ServableRecord available(ServableId id, SignatureDefMap signatures) {
    return new ServableRecord(id, State.AVAILABLE, StatusCode.OK, "", signatures, List.of());
  }

  /** A load that failed for good: END, with the error that ended it. */
  public static ServableRecord failed(ServableId id, StatusCode code, String message) {
    return new ServableRecord(id, State.END, code, message, SignatureDefMap.getDefaultInstance(), List.of());
  }

  /** AVAILABLE on at least one worker. */
  public boolean isAvailable() {
    return state == State.AVAILABLE && !workers.isEmpty();
  }
}
