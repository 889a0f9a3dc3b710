package io.infergate.gateway.policy;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.infergate.proto.policy.Quota;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's quota buckets in a Hazelcast map, one entry per key ("tokens;millis"), taken from
 * with compare-and-set so that gateways leasing at once never grant the same tokens twice.
 * Hazelcast's map has no asynchronous compare-and-set, so leases run on their own threads;
 * they are rare (one per key and gateway while a lease lasts). When the cluster does not answer
 * in time, the gateway leases from its own {@link LocalQuotaBudget} instead: quotas then hold
 * per gateway rather than cluster-wide, and traffic is not stopped by a sick map.
 */
public final class HazelcastQuotaBudget implements QuotaBudget {

  private static final Logger LOG = LoggerFactory.getLogger(HazelcastQuotaBudget.class);
  static final String MAP = "infergate-quotas";
  private static final int ATTEMPTS = 8;
  private static final long TIMEOUT_MILLIS = 500;

  private final IMap<String, String> buckets;
  private final WorkerExecutor executor;
  private final LocalQuotaBudget fallback = new LocalQuotaBudget();

  public HazelcastQuotaBudget(HazelcastInstance hazelcast, WorkerExecutor executor) {
    this.buckets = hazelcast.getMap(MAP);
    this.executor = executor;
  }

  @Override
  public Future<Grant> lease(String key, Quota quota, long wanted) {
    return executor.executeBlocking(() -> take(key, quota, wanted), false)
        .timeout(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
        .recover(failure -> {
          LOG.warn("The shared quota budget did not answer ({}); leasing from this gateway's own", failure.toString());
          return fallback.lease(key, quota, wanted);
        });
  }

  private Grant take(String key, Quota quota, long wanted) {
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      long now = System.currentTimeMillis();
      String current = buckets.get(key);
      double tokens = QuotaBudget.capacity(quota);
      long last = now;
      if (current != null) {
        int separator = current.indexOf(';');
        try {
          tokens = Double.parseDouble(current.substring(0, separator));
          last = Long.parseLong(current.substring(separator + 1));
        } catch (RuntimeException unreadable) {
          // Not written by a gateway: start the bucket afresh rather than trust it.
          tokens = 0;
        }
      }
      double[] taken = QuotaBudget.take(quota, tokens, last, now, wanted);
      String next = taken[0] + ";" + now;
      boolean stored = current == null ? buckets.putIfAbsent(key, next) == null : buckets.replace(key, current, next);
      if (stored) {
        long granted = (long) taken[1];
        return new Grant(granted, granted > 0 ? 0 : QuotaBudget.millisUntilOne(quota, taken[0]));
      }
    }
    // Lost every race: the others are taking tokens; try again shortly.
    return new Grant(0, 10);
  }
}
