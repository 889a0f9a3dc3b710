package io.infergate.gateway.cache;

import io.vertx.core.Future;

/** Where gateways share cached answers (Redis): bytes under a name, for a while. */
public interface SharedResponseStore {

  /** The value, or null when there is none; fails when the store does not answer. */
  Future<byte[]> get(String name);

  /** Stores a value for {@code ttlMillis}; failures are the store's to log, a cache does not wait for them. */
  void set(String name, byte[] value, long ttlMillis);
}
