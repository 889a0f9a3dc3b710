package io.infergate.gateway.features;

import io.vertx.core.Future;
import java.util.Arrays;
import java.util.List;

/** Where online features live. Values come back in the order asked; null marks a missing entity. */
public interface FeatureStore extends AutoCloseable {

  /** Packed little-endian float32 vectors stored under {@code keys} (one round trip). */
  Future<List<byte[]>> vectors(List<String> keys);

  /** The named fields of the hash under each key, as text; all keys in one pipelined round trip. */
  Future<List<List<String>>> hashes(List<String> keys, List<String> fields);

  /** The vectors last fetched for these keys, however old (null where none is kept): what STALE serves. */
  default List<byte[]> lastVectors(List<String> keys) {
    return Arrays.asList(new byte[keys.size()][]);
  }

  /** The hash values last fetched for these keys and fields, however old (null where none is kept). */
  default List<List<String>> lastHashes(List<String> keys, List<String> fields) {
    return Arrays.asList(new List[keys.size()]);
  }

  /** The store itself, behind whatever cache is in front of it. */
  default FeatureStore backing() {
    return this;
  }

  /** Whether this store keeps last values at all (the STALE policy needs it). */
  default boolean keepsLastValues() {
    return false;
  }

  @Override
  void close();
}
