package io.infergate.common.registry;

import io.infergate.common.ServableId;
import io.infergate.common.status.StatusCode;
import io.infergate.proto.serving.ModelVersionStatus.State;
import io.infergate.proto.serving.SignatureDefMap;
import java.util.List;
import java.util.Map;

/**
 * What the registry knows of one servable: its lifecycle state, the error of a failed load,
 * once loaded its signatures (so gateways decode and describe requests without asking a
 * worker) and its memory footprint, the workers it is AVAILABLE on, and the workers that would
 * load it on request with the memory each has left. A worker publishes its own record; the
 * routing snapshot merges the records of every worker.
 */
public record ServableRecord(
    ServableId id, State state, StatusCode errorCode, String errorMessage,
    SignatureDefMap signatures, List<String> workers, Map<String, String> invalidSignatures, long memoryBytes,
    Map<String, Long> pageableOn) {

  public ServableRecord {
    workers = List.copyOf(workers);
    invalidSignatures = Map.copyOf(invalidSignatures);
    pageableOn = Map.copyOf(pageableOn);
  }

  public static ServableRecord of(ServableId id, State state) {
    return new ServableRecord(id, state, StatusCode.OK, "", SignatureDefMap.getDefaultInstance(), List.of(), Map.of(),
        0, Map.of());
  }

  public static ServableRecord available(ServableId id, SignatureDefMap signatures) {
    return available(id, signatures, Map.of(), 0);
  }

  /**
   * @param invalidSignatures signatures that do not match the graph (requests to them fail), and why
   * @param memoryBytes what the version holds in memory, measured at load
   */
  public static ServableRecord available(ServableId id, SignatureDefMap signatures,
                                         Map<String, String> invalidSignatures, long memoryBytes) {
    return new ServableRecord(id, State.AVAILABLE, StatusCode.OK, "", signatures, List.of(), invalidSignatures,
        memoryBytes, Map.of());
  }

  /** A load that failed for good: END, with the error that ended it. */
  public static ServableRecord failed(ServableId id, StatusCode code, String message) {
    return new ServableRecord(id, State.END, code, message, SignatureDefMap.getDefaultInstance(), List.of(),
        Map.of(), 0, Map.of());
  }

  /** Ended by a load that failed for good (after its retries): waiting will not make it serve. */
  public boolean hasFailed() {
    return state == State.END && errorCode != StatusCode.OK;
  }

  /** Not loaded anywhere it could serve, but some worker loads it on request. */
  public boolean isPageable() {
    return !isAvailable() && !pageableOn.isEmpty();
  }

  /** AVAILABLE on at least one worker. */
  public boolean isAvailable() {
    return state == State.AVAILABLE && !workers.isEmpty();
  }
}
