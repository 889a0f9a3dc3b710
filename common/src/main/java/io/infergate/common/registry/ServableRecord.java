package io.infergate.common.registry;

import io.infergate.common.ServableId;
import io.infergate.common.status.StatusCode;
import io.infergate.proto.serving.ModelVersionStatus.State;
import io.infergate.proto.serving.SignatureDefMap;

/**
 * What the registry knows of one servable: its lifecycle state, the error of a failed load,
 * and, once loaded, its signatures (so gateways decode and describe requests without asking
 * a worker).
 */
public record ServableRecord(
    ServableId id, State state, StatusCode errorCode, String errorMessage,
    SignatureDefMap signatures) {

  public static ServableRecord of(ServableId id, State state) {
    return new ServableRecord(id, state, StatusCode.OK, "", SignatureDefMap.getDefaultInstance());
  }

  public static ServableRecord available(ServableId id, SignatureDefMap signatures) {
    return new ServableRecord(id, State.AVAILABLE, StatusCode.OK, "", signatures);
  }

  /** A load that failed for good: END, with the error that ended it. */
  public static ServableRecord failed(ServableId id, StatusCode code, String message) {
    return new ServableRecord(id, State.END, code, message, SignatureDefMap.getDefaultInstance());
  }

  public boolean isAvailable() {
    return state == State.AVAILABLE;
  }
}
