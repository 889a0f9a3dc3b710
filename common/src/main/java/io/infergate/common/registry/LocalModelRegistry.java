package io.infergate.common.registry;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The registry of a single process, where the gateway and the one worker share the JVM. */
public final class LocalModelRegistry extends StoredModelRegistry {

  /** The worker id of the in-process worker. */
  public static final String LOCAL_WORKER = "local";

  private final Map<String, byte[]> servables = new ConcurrentHashMap<>();
  private final Map<String, byte[]> models = new ConcurrentHashMap<>();
  private final Map<String, byte[]> overrides = new ConcurrentHashMap<>();

  public LocalModelRegistry() {
    super(LOCAL_WORKER, null);
  }

  @Override
  protected Map<String, byte[]> servables() {
    return servables;
  }

  @Override
  protected Map<String, byte[]> models() {
    return models;
  }

  @Override
  protected Map<String, byte[]> overrides() {
    return overrides;
  }
}
