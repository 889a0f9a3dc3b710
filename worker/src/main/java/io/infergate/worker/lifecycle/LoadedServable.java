package io.infergate.worker.lifecycle;

import io.infergate.common.ServableId;
import io.infergate.proto.serving.SignatureDefMap;
import java.util.Map;

/** A version a {@link Loader} made ready for traffic, as the manager sees it: what it publishes, and how to free it. */
public interface LoadedServable extends AutoCloseable {

  ServableId id();

  /** The signatures the registry publishes (gateways type JSON inputs and answer metadata from them). */
  SignatureDefMap signatures();

  /** Signatures that do not match the model (requests to them fail), and why; reported in its metadata. */
  default Map<String, String> invalidSignatures() {
    return Map.of();
  }

  /** The memory it holds, measured when it loaded; 0 when unknown. */
  default long memoryBytes() {
    return 0;
  }

  /** How it was loaded, for the load log line (warmup, devices). */
  String describe();

  /** Frees it; called once, after it stopped serving or when it never did. */
  @Override
  void close();
}
