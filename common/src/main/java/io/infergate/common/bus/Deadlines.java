package io.infergate.common.bus;

import io.vertx.core.MultiMap;
import io.vertx.core.eventbus.DeliveryOptions;

/**
 * A request's deadline travels with it over the event bus as the time it has left, in a
 * header (relative, so that clocks of cluster members need not agree); the send timeout
 * makes the caller give up at the same moment.
 */
public final class Deadlines {

  static final String HEADER = "infergate-timeout-ms";

  private Deadlines() {}

  public static DeliveryOptions deliveryOptions(long remainingMillis) {
    long millis = Math.max(1, remainingMillis);
    return new DeliveryOptions().setSendTimeout(millis).addHeader(HEADER, Long.toString(millis));
  }

  /** The deadline on this JVM's nano clock; far away when the sender set none. */
  public static long deadlineNanos(MultiMap headers, long nowNanos) {
    String millis = headers.get(HEADER);
    if (millis == null) {
      return nowNanos + Long.MAX_VALUE / 2;
    }
    try {
      return nowNanos + Long.parseLong(millis) * 1_000_000;
    } catch (NumberFormatException e) {
      return nowNanos + Long.MAX_VALUE / 2;
    }
  }
}
