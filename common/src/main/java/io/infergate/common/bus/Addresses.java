package io.infergate.common.bus;

import io.infergate.common.ServableId;

/** Every event-bus address Infergate uses, in one place. */
public final class Addresses {

  private static final String SERVABLE_PREFIX = "infergate.servable.";

  /** Where any one worker takes a new ModelServerConfig (gRPC's HandleReloadConfigRequest). */
  public static final String RELOAD_CONFIG = "infergate.worker.reload-config";

  private Addresses() {}

  /** Where one worker takes a new ModelServerConfig: a reload reaches each worker it concerns. */
  public static String reloadConfig(String worker) {
    return RELOAD_CONFIG + "@" + worker;
  }

  /** Where one worker takes requests to load one of its pageable models (a model name; answered once it serves). */
  public static String pageIn(String worker) {
    return "infergate.worker.page-in@" + worker;
  }

  /** Where one worker takes predict, classify and regress requests for one servable. */
  public static String servable(ServableId id, String worker) {
    return SERVABLE_PREFIX + id.name() + "/" + id.version() + "@" + worker;
  }
}
