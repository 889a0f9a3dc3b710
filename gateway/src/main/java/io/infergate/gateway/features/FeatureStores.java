package io.infergate.gateway.features;

import com.hazelcast.core.HazelcastInstance;
import io.infergate.common.cluster.Clustering;
import io.infergate.proto.features.FeatureConfig;
import io.infergate.proto.features.RedisConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Opens the feature store a feature config names: Redis (with an optional near cache) or a Hazelcast map. */
public final class FeatureStores {

  private static final Logger LOG = LoggerFactory.getLogger(FeatureStores.class);
  private static final long DEFAULT_TIMEOUT_MS = 50;

  private FeatureStores() {}

  /**
   * The enricher of a feature config and its store. Blocks: it connects to Redis, or starts an
   * embedded Hazelcast member when there is no cluster.
   *
   * @param cluster this process's cluster member, or null for a single-process server
   */
  public static FeatureEnricher open(Vertx vertx, FeatureConfig config, HazelcastInstance cluster, MeterRegistry meters) {
    FeatureStore store = config.hasRedis() ? redis(vertx, config.getRedis(), timeoutMillis(config), meters)
        : hazelcast(vertx, config, cluster, meters);
    try {
      return new FeatureEnricher(config, store, meters);
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
  }

  /** The per-fetch time budget (never more than a request's remaining deadline). */
  static long timeoutMillis(FeatureConfig config) {
    long configured = config.hasRedis() ? config.getRedis().getTimeoutMs() : config.getHazelcast().getTimeoutMs();
    return configured > 0 ? configured : DEFAULT_TIMEOUT_MS;
  }

  private static FeatureStore redis(Vertx vertx, RedisConfig config, long timeoutMillis, MeterRegistry meters) {
    RedisFeatureStore redis = new RedisFeatureStore(vertx, config.getUri(), Duration.ofMillis(timeoutMillis));
    return config.hasNearCache() ? cached(redis, config.getNearCache(), redis::track, meters) : redis;
  }

  private static FeatureStore hazelcast(Vertx vertx, FeatureConfig config, HazelcastInstance cluster,
                                        MeterRegistry meters) {
    HazelcastFeatureStore store;
    if (cluster != null) {
      store = new HazelcastFeatureStore(vertx, cluster, () -> { });
    } else {
      HazelcastInstance member = Clustering.standaloneMember();
      LOG.info("Online features are in the map '{}' of an embedded Hazelcast member; load them through the "
          + "admin API: 'infergate features load --gateway=http://HOST:REST_PORT --admin_token=...'",
          HazelcastFeatureStore.MAP);
      store = new HazelcastFeatureStore(vertx, member, member::shutdown);
    }
    return config.getHazelcast().hasNearCache()
        ? cached(store, config.getHazelcast().getNearCache(), store::track, meters) : store;
  }

  /** How a store tells its near cache what changed: one key, or possibly anything. */
  private interface Tracking {
    void track(Consumer<String> invalidate, Runnable clear);
  }

  /** The store behind a near cache, kept current by the store when tracking is on; the store alone for no entries. */
  private static FeatureStore cached(FeatureStore store, io.infergate.proto.features.NearCache near, Tracking tracking,
                                     MeterRegistry meters) {
    if (near.getMaxEntries() <= 0) {
      return store;
    }
    NearCache<Object> cache = new NearCache<>(near.getMaxEntries(), near.getTtlMs() > 0 ? near.getTtlMs() : 1000);
    if (near.getTracking()) {
      tracking.track(cache::invalidate, cache::clear);
    }
    return new CachingFeatureStore(store, cache, meters);
  }
}
