package io.infergate.app.features;

import java.util.Map;
import java.util.concurrent.CompletionStage;

/** Where the loader writes features: one asynchronous write per entity, many in flight. */
public interface FeatureSink extends AutoCloseable {

  /** A hash of named numbers (as text) under {@code key}. */
  CompletionStage<?> putHash(String key, Map<String, String> values);

  /** A packed little-endian float32 vector under {@code key}. */
  CompletionStage<?> putVector(String key, byte[] vector);

  /** Sends what the sink still holds back; the loader calls it before it waits for a batch. */
  default void flush() {}

  /** Where the features go, for the summary. */
  String target();

  @Override
  void close();
}
