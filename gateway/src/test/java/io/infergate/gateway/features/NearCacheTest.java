package io.infergate.gateway.features;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class NearCacheTest {

  @Test
  void servesWhatItKeptUntilItAgesOut() {
    NearCache<String> cache = new NearCache<>(10, 50);
    cache.put("k", "v", System.nanoTime());
    assertThat(cache.get("k")).isEqualTo("v");
    long stored = System.nanoTime();
    while (System.nanoTime() - stored < 60_000_000L) {
      Thread.onSpinWait();
    }
    assertThat(cache.get("k")).as("older than the TTL").isNull();
    assertThat(cache.getStale("k")).as("still the last known value").isEqualTo("v");
  }

  @Test
  void aValueInvalidatedWhileItWasFetchedIsNotKept() {
    NearCache<String> cache = new NearCache<>(10, 60_000);
    long sent = System.nanoTime();
    cache.invalidate("k"); // Redis changed the key while the fetch was on its way
    cache.put("k", "old", sent);
    assertThat(cache.get("k")).isNull();
    assertThat(cache.getStale("k")).isNull();
    cache.put("k", "new", System.nanoTime());
    assertThat(cache.get("k")).isEqualTo("new");
  }

  @Test
  void afterAClearNothingIsFreshButTheLastValuesStay() {
    NearCache<String> cache = new NearCache<>(10, 60_000);
    long inFlight = System.nanoTime();
    cache.put("k", "v", System.nanoTime());
    cache.clear(); // the connection dropped: invalidations may have been lost
    assertThat(cache.get("k")).isNull();
    assertThat(cache.getStale("k")).isEqualTo("v");
    cache.put("other", "w", inFlight);
    assertThat(cache.getStale("other")).as("sent before the clear").isNull();
  }

  @Test
  void keepsAtMostMaxEntriesDroppingTheLeastRecentlyUsed() {
    NearCache<String> cache = new NearCache<>(2, 60_000);
    cache.put("a", "1", System.nanoTime());
    cache.put("b", "2", System.nanoTime());
    cache.get("a");
    cache.put("c", "3", System.nanoTime());
    assertThat(cache.get("a")).isEqualTo("1");
    assertThat(cache.get("b")).isNull();
    assertThat(cache.get("c")).isEqualTo("3");
  }
}
