package io.infergate.gateway.features;

import io.vertx.core.Future;
import java.util.List;

/** Where online features live. Values come back in the order asked; null marks a missing entity. */
public interface FeatureStore extends AutoCloseable {

  /** Packed little-endian float32 vectors stored under {@code keys} (one round trip). */
  Future<List<byte[]>> vectors(List<String> keys);

  /** The named fields of the hash under each key, as text; all keys in one pipelined round trip. */
  Future<List<List<String>>> hashes(List<String> keys, List<String> fields);

  @Override
  void close();
}
