package io.infergate.gateway.cache;

import com.google.protobuf.InvalidProtocolBufferException;
import io.infergate.common.metrics.MetricNames;
import io.infergate.common.registry.ModelRegistry;
import io.infergate.common.registry.ModelView;
import io.infergate.common.registry.RoutingSnapshot;
import io.infergate.common.registry.ServableRecord;
import io.infergate.proto.policy.CachePolicy;
import io.infergate.proto.serving.PredictResponse;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Predict answers a gateway keeps for models whose policy asks for it, so that a repeated
 * request is answered without a worker. Each model has its own least-recently-used map, bounded
 * in bytes, whose entries live for the policy's TTL. Keys name the version that answered, so an
 * answer is only ever served for the version routing chose; versions that leave service are
 * dropped from the cache as the registry reports it. With {@code shared}, answers also go to a
 * {@link SharedResponseStore} that every gateway reads on a miss.
 */
public final class ResponseCache {

  private static final Logger LOG = LoggerFactory.getLogger(ResponseCache.class);
  public static final long DEFAULT_MAX_BYTES = 64L << 20;
  /** How long a lookup in the shared store may take before it counts as a miss. */
  public static final long SHARED_LOOKUP_MILLIS = 20;

  private final ModelRegistry registry;
  private final SharedResponseStore shared;
  private final MeterRegistry meters;
  private final Map<String, ModelCache> models = new ConcurrentHashMap<>();

  /** @param shared the store gateways share answers through, or null for none */
  public ResponseCache(ModelRegistry registry, SharedResponseStore shared, MeterRegistry meters) {
    this.registry = registry;
    this.shared = shared;
    this.meters = meters;
    // Lives as long as the process's gateways, like the registry.
    registry.onChange(this::dropVersionsOutOfService);
  }

  /** Whether a model's policy caches its answers. */
  public static boolean enabled(CachePolicy policy) {
    return policy.getTtlMillis() > 0;
  }

  /**
   * The answer cached for {@code key}: from this gateway's memory, else from the shared store
   * (when the policy shares); a future of null on a miss. Never fails: a store that does not
   * answer in time is a miss.
   */
  public Future<PredictResponse> get(CacheKey key, CachePolicy policy) {
    ModelCache cache = model(key.servable().name());
    PredictResponse local = cache.get(key, System.nanoTime());
    if (local != null) {
      cache.localHits.increment();
      return Future.succeededFuture(local);
    }
    if (!policy.getShared() || shared == null) {
      cache.misses.increment();
      return Future.succeededFuture();
    }
    return shared.get(key.sharedName()).timeout(SHARED_LOOKUP_MILLIS, TimeUnit.MILLISECONDS)
        .map(bytes -> {
          PredictResponse found = bytes == null ? null : parse(bytes);
          if (found == null) {
            cache.misses.increment();
            return null;
          }
          cache.sharedHits.increment();
          cache.put(key, found, TimeUnit.MILLISECONDS.toNanos(policy.getTtlMillis()), maxBytes(policy));
          return found;
        })
        .otherwise(failure -> {
          cache.misses.increment();
          return null;
        });
  }

  /** Keeps an answer for the policy's TTL. */
  public void put(CacheKey key, PredictResponse response, CachePolicy policy) {
    model(key.servable().name()).put(key, response, TimeUnit.MILLISECONDS.toNanos(policy.getTtlMillis()), maxBytes(policy));
    if (policy.getShared() && shared != null) {
      shared.set(key.sharedName(), response.toByteArray(), policy.getTtlMillis());
    }
  }

  private static long maxBytes(CachePolicy policy) {
    return policy.getMaxBytes() > 0 ? policy.getMaxBytes() : DEFAULT_MAX_BYTES;
  }

  private static PredictResponse parse(byte[] bytes) {
    try {
      return PredictResponse.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      LOG.warn("Ignoring an unreadable answer in the shared response cache: {}", e.getMessage());
      return null;
    }
  }

  private ModelCache model(String name) {
    ModelCache cache = models.get(name);
    return cache != null ? cache : models.computeIfAbsent(name, ModelCache::new);
  }

  /** Drops the answers of versions that routing can no longer choose. */
  private void dropVersionsOutOfService() {
    RoutingSnapshot snapshot = registry.snapshot();
    models.forEach((name, cache) -> {
      Set<Long> serving = new HashSet<>();
      ModelView view = snapshot.models().get(name);
      if (view != null) {
        view.versions().forEach((version, record) -> {
          if (record.isAvailable() || record.isPageable()) {
            serving.add(version);
          }
        });
      }
      cache.keepOnly(serving);
    });
  }

  private record Entry(PredictResponse response, long expiresNanos, long weight) {}

  /** One model's answers, least recently used first. */
  private final class ModelCache {
    private final LinkedHashMap<CacheKey, Entry> entries = new LinkedHashMap<>(64, 0.75f, true);
    private long bytes;
    final Counter localHits;
    final Counter sharedHits;
    final Counter misses;
    private final Counter evictedForRoom;
    private final Counter expired;
    private final Counter versionGone;

    ModelCache(String model) {
      localHits = hits(model, "local");
      sharedHits = hits(model, "shared");
      misses = Counter.builder(MetricNames.RESPONSE_CACHE_MISSES).tag("model", model)
          .description("Predict requests of cached models that no cache could answer").register(meters);
      evictedForRoom = evictions(model, "size");
      expired = evictions(model, "expired");
      versionGone = evictions(model, "version");
      Gauge.builder(MetricNames.RESPONSE_CACHE_BYTES, this, ModelCache::bytes).tag("model", model).baseUnit("bytes")
          .description("Memory this gateway's cached answers of the model hold").register(meters);
    }

    synchronized long bytes() {
      return bytes;
    }

    synchronized PredictResponse get(CacheKey key, long now) {
      Entry entry = entries.get(key);
      if (entry == null) {
        return null;
      }
      if (now - entry.expiresNanos() >= 0) {
        remove(key, entry);
        expired.increment();
        return null;
      }
      return entry.response();
    }

    synchronized void put(CacheKey key, PredictResponse response, long ttlNanos, long maxBytes) {
      long weight = key.weight() + response.getSerializedSize() + 64L;
      if (weight > maxBytes) {
        return;
      }
      Entry previous = entries.put(key, new Entry(response, System.nanoTime() + ttlNanos, weight));
      bytes += weight - (previous == null ? 0 : previous.weight());
      Iterator<Map.Entry<CacheKey, Entry>> eldest = entries.entrySet().iterator();
      while (bytes > maxBytes && eldest.hasNext()) {
        bytes -= eldest.next().getValue().weight();
        eldest.remove();
        evictedForRoom.increment();
      }
    }

    synchronized void keepOnly(Set<Long> versions) {
      Iterator<Map.Entry<CacheKey, Entry>> all = entries.entrySet().iterator();
      while (all.hasNext()) {
        Map.Entry<CacheKey, Entry> entry = all.next();
        if (!versions.contains(entry.getKey().servable().version())) {
          bytes -= entry.getValue().weight();
          all.remove();
          versionGone.increment();
        }
      }
    }

    private void remove(CacheKey key, Entry entry) {
      entries.remove(key);
      bytes -= entry.weight();
    }

    private Counter hits(String model, String tier) {
      return Counter.builder(MetricNames.RESPONSE_CACHE_HITS).tag("model", model).tag("tier", tier)
          .description("Predict requests answered from a cache: this gateway's (local) or the shared store")
          .register(meters);
    }

    private Counter evictions(String model, String reason) {
      return Counter.builder(MetricNames.RESPONSE_CACHE_EVICTIONS).tag("model", model).tag("reason", reason)
          .description("Cached answers dropped: for room, expired, or their version left service").register(meters);
    }
  }
}
