package io.infergate.gateway.features;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Feature values kept in the gateway for hot entities: at most {@code maxEntries} (least
 * recently used go first), each for at most {@code ttl}. A value whose key was invalidated
 * while it was being fetched is not kept, so a cache fed by Redis tracking never serves a
 * value Redis has since changed. Entries that aged out or were stored before a {@link #clear()}
 * are no longer served as fresh but stay (within the size bound) as the last known values, for
 * the STALE failure policy; an invalidated key is dropped for good.
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

  /** The value if it is fresh: younger than the TTL and stored since the last clear. */
  synchronized V get(String key) {
    Entry<V> entry = entries.get(key);
    if (entry == null || entry.storedNanos() <= clearedNanos || System.nanoTime() - entry.storedNanos() > ttlNanos) {
      return null;
    }
    return entry.value();
  }

  /** The last value kept for the key, however old; null when none is kept or it was invalidated. */
  synchronized V getStale(String key) {
    Entry<V> entry = entries.get(key);
    return entry == null ? null : entry.value();
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

  /** Nothing kept so far is fresh any more (invalidations may have been lost), nor is what is in flight. */
  synchronized void clear() {
    clearedNanos = System.nanoTime();
  }
}
