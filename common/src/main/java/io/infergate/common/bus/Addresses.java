package io.infergate.common.bus;

import io.infergate.common.ServableId;

/** Every event-bus address Infergate uses, in one place. */
public final class Addresses {

  private static final String SERVABLE_PREFIX = "infergate.servable.";

  private Addresses() {}

  /** Where one servable's worker takes predict, classify and regress requests. */
  public static String servable(ServableId id) {
    return SERVABLE_PREFIX + id.name() + "/" + id.version();
  }
}
