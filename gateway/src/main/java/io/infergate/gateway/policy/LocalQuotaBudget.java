package io.infergate.gateway.policy;

import io.infergate.proto.policy.Quota;
import io.vertx.core.Future;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The budget of a gateway that is not part of a cluster (and a clustered one's fallback): in memory. */
public final class LocalQuotaBudget implements QuotaBudget {

  private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

  private static final class Bucket {
    double tokens = Double.NaN;
    long lastMillis;
  }

  @Override
  public Future<Grant> lease(String key, Quota quota, long wanted) {
    Bucket bucket = buckets.computeIfAbsent(key, k -> new Bucket());
    synchronized (bucket) {
      long now = System.currentTimeMillis();
      if (Double.isNaN(bucket.tokens)) {
        bucket.tokens = QuotaBudget.capacity(quota);
        bucket.lastMillis = now;
      }
      double[] taken = QuotaBudget.take(quota, bucket.tokens, bucket.lastMillis, now, wanted);
      bucket.tokens = taken[0];
      bucket.lastMillis = now;
      long granted = (long) taken[1];
      return Future.succeededFuture(new Grant(granted, granted > 0 ? 0 : QuotaBudget.millisUntilOne(quota, taken[0])));
    }
  }
}
