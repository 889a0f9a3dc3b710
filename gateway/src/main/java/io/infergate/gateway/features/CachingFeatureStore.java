package io.infergate.gateway.features;

import io.infergate.common.metrics.MetricNames;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;

/** A feature store with a near cache in front: hits never leave the gateway, misses go in one round trip. */
final class CachingFeatureStore implements FeatureStore {

  private final FeatureStore store;
  private final NearCache<Object> cache;
  private final Counter hits;
  private final Counter misses;

  CachingFeatureStore(FeatureStore store, NearCache<Object> cache, MeterRegistry meters) {
    this.store = store;
    this.cache = cache;
    this.hits = Counter.builder(MetricNames.FEATURES_CACHE).tag("result", "hit")
        .description("Feature lookups answered by the near cache, and those that went to the store").register(meters);
    this.misses = Counter.builder(MetricNames.FEATURES_CACHE).tag("result", "miss").register(meters);
  }

  /** Hash values are cached per key together with the fields they answer. */
  private record Fields(List<String> fields, List<String> values) {}

  @Override
  public Future<List<byte[]>> vectors(List<String> keys) {
    return lookup(keys, store::vectors, CachingFeatureStore::vector);
  }

  @Override
  public Future<List<List<String>>> hashes(List<String> keys, List<String> fields) {
    return lookup(keys, misses -> store.hashes(misses, fields).map(rows -> {
          List<Object> wrapped = new ArrayList<>(rows.size());
          rows.forEach(row -> wrapped.add(row == null ? null : new Fields(fields, row)));
          return wrapped;
        }),
        value -> hash(value, fields));
  }

  @Override
  public List<byte[]> lastVectors(List<String> keys) {
    return keys.stream().map(key -> vector(cache.getStale(key))).toList();
  }

  @Override
  public List<List<String>> lastHashes(List<String> keys, List<String> fields) {
    List<List<String>> values = new ArrayList<>(keys.size());
    keys.forEach(key -> values.add(hash(cache.getStale(key), fields)));
    return values;
  }

  @Override
  public FeatureStore backing() {
    return store.backing();
  }

  @Override
  public boolean keepsLastValues() {
    return true;
  }

  private static byte[] vector(Object cached) {
    return cached instanceof byte[] bytes ? bytes : null;
  }

  private static List<String> hash(Object cached, List<String> fields) {
    return cached instanceof Fields hash && hash.fields().equals(fields) ? hash.values() : null;
  }

  private interface Fetch {
    Future<? extends List<?>> apply(List<String> keys);
  }

  private interface Unwrap<T> {
    T apply(Object cached);
  }

  private <T> Future<List<T>> lookup(List<String> keys, Fetch fetch, Unwrap<T> unwrap) {
    List<T> values = new ArrayList<>(keys.size());
    List<String> missing = new ArrayList<>();
    List<Integer> at = new ArrayList<>();
    for (int i = 0; i < keys.size(); i++) {
      T cached = unwrap.apply(cache.get(keys.get(i)));
      values.add(cached);
      if (cached == null) {
        missing.add(keys.get(i));
        at.add(i);
      }
    }
    hits.increment(keys.size() - missing.size());
    misses.increment(missing.size());
    if (missing.isEmpty()) {
      return Future.succeededFuture(values);
    }
    long sent = System.nanoTime();
    return fetch.apply(missing).map(fetched -> {
      for (int i = 0; i < fetched.size(); i++) {
        Object value = fetched.get(i);
        if (value != null) {
          cache.put(missing.get(i), value, sent);
          values.set(at.get(i), unwrap.apply(value));
        }
      }
      return values;
    });
  }

  @Override
  public void close() {
    store.close();
  }
}
