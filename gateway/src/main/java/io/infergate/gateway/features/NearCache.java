package io.infergate.gateway.features;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Feature values kept in the gateway for hot entities: at most {@code maxEntries} (least
 * recently used go first), each for at most {@code ttl}. A value whose key was invalidated
 * while it was being fetched is not kept, so a cache fed by Redis tracking never serves a
 * value Redis has since changed.
 */
final class NearCache<V> {

  private record Entry<V>(V value, long storedNanos) {}

  private final int maxEntries;
  private final long ttlNanos;
  private final LinkedHashMap<String, Entry<V>> entries;
  private final LinkedHashMap<String, Long> invalidated;
  private long clearedNanos = Long.MIN_VALUE;

  NearCache(int maxEntries, long ttlMillis) {
    this.maxEntries = maxEntries;
    this.ttlNanos = ttlMillis * 1_000_000;
    this.entries = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Entry<V>> eldest) {
        return size() > NearCache.this.maxEntries;
      }
    };
    this.invalidated = new LinkedHashMap<>(16, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
        return size() > NearCache.this.maxEntries;
      }
    };
  }

  synchronized V get(String key) {
    Entry<V> entry = entries.get(key);
    if (entry == null) {
      return null;
    }
    if (System.nanoTime() - entry.storedNanos() > ttlNanos) {
      entries.remove(key);
      return null;
    }
    return entry.value();
  }

  /** Keeps a value fetched from a request sent at {@code fetchedSinceNanos}, unless invalidated since. */
  synchronized void put(String key, V value, long fetchedSinceNanos) {
    Long invalidatedAt = invalidated.get(key);
    if (fetchedSinceNanos <= clearedNanos || invalidatedAt != null && fetchedSinceNanos <= invalidatedAt) {
      return;
    }
    entries.put(key, new Entry<>(value, System.nanoTime()));
  }

  synchronized void invalidate(String key) {
    entries.remove(key);
    invalidated.put(key, System.nanoTime());
  }

  synchronized void clear() {
    entries.clear();
    clearedNanos = System.nanoTime();
  }
}
