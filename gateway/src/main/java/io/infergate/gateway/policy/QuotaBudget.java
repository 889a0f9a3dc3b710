package io.infergate.gateway.policy;

import io.infergate.proto.policy.Quota;
import io.vertx.core.Future;

/**
 * The shared side of a quota: one token bucket per quota key for the whole cluster, from which
 * each gateway leases tokens in batches into its own local bucket. A gateway asks again only
 * when its lease runs low, so requests never wait for a round trip while tokens last.
 */
public interface QuotaBudget {

  /**
   * Takes up to {@code wanted} tokens from the key's bucket (created full, {@code burst} tokens).
   * With none there, the grant is 0 and says when the next token is due.
   */
  Future<Grant> lease(String key, Quota quota, long wanted);

  /** @param retryAfterMillis with 0 tokens: how long until the bucket has one again */
  record Grant(long tokens, long retryAfterMillis) {}

  /** The bucket a quota allows at most: its burst, or one second's worth (at least 1). */
  static long capacity(Quota quota) {
    return quota.getBurst() > 0 ? quota.getBurst() : Math.max(1, (long) Math.ceil(quota.getRequestsPerSecond()));
  }

  /**
   * Refills a bucket of {@code tokens} last refilled at {@code lastMillis} to {@code nowMillis}
   * and takes up to {@code wanted}: the new level and the grant. Clocks of different members
   * may disagree by a little: time never runs backwards here.
   */
  static double[] take(Quota quota, double tokens, long lastMillis, long nowMillis, long wanted) {
    double level = Math.min(capacity(quota),
        tokens + quota.getRequestsPerSecond() * Math.max(0, nowMillis - lastMillis) / 1000.0);
    long granted = Math.min(wanted, (long) Math.floor(level));
    return new double[] {level - granted, granted};
  }

  /** With {@code level} tokens left: milliseconds until the bucket has a whole one. */
  static long millisUntilOne(Quota quota, double level) {
    return (long) Math.ceil(Math.max(0, 1 - level) * 1000 / quota.getRequestsPerSecond());
  }
}
