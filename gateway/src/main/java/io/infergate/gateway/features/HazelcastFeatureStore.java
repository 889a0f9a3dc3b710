package io.infergate.gateway.features;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import com.hazelcast.map.MapEvent;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryEvictedListener;
import com.hazelcast.map.listener.EntryExpiredListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import com.hazelcast.map.listener.MapClearedListener;
import com.hazelcast.map.listener.MapEvictedListener;
import com.hazelcast.map.IMap;
import io.infergate.common.status.ServingException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Features in a Hazelcast map of the cluster, for setups without Redis: a packed float32 vector
 * ({@code byte[]}) or a hash ({@code Map} of field to number as text) per key. All gets of a
 * request are sent at once (Hazelcast pipelines them to the owning members) and the answer comes
 * back on the caller's Vert.x context.
 */
public final class HazelcastFeatureStore implements FeatureStore {

  /** The map's name, shared with the loader. */
  public static final String MAP = "infergate.features";

  private final Vertx vertx;
  private final HazelcastInstance hazelcast;
  private final IMap<String, Object> map;
  private final Runnable onClose;
  private volatile UUID changes;
  private volatile UUID lifecycle;

  /** @param onClose what closing the store also closes (an embedded member it owns), or nothing */
  public HazelcastFeatureStore(Vertx vertx, HazelcastInstance hazelcast, Runnable onClose) {
    this.vertx = vertx;
    this.hazelcast = hazelcast;
    this.map = hazelcast.getMap(MAP);
    this.onClose = onClose;
  }

  /** The member (or client) the features are read through. */
  public HazelcastInstance hazelcast() {
    return hazelcast;
  }

  @Override
  public Future<List<byte[]>> vectors(List<String> keys) {
    return getAll(keys).map(values -> {
      List<byte[]> vectors = new ArrayList<>(values.size());
      for (int i = 0; i < values.size(); i++) {
        Object value = values.get(i);
        if (value != null && !(value instanceof byte[])) {
          throw ServingException.invalidArgument("Features under " + keys.get(i) + " are a hash, not a packed vector");
        }
        vectors.add((byte[]) value);
      }
      return vectors;
    });
  }

  @Override
  public Future<List<List<String>>> hashes(List<String> keys, List<String> fields) {
    return getAll(keys).map(values -> {
      List<List<String>> rows = new ArrayList<>(values.size());
      for (int i = 0; i < values.size(); i++) {
        Object value = values.get(i);
        if (value == null) {
          rows.add(null);
        } else if (value instanceof Map<?, ?> hash) {
          rows.add(fields.stream().map(field -> hash.get(field) == null ? null : String.valueOf(hash.get(field)))
              .toList());
        } else {
          throw ServingException.invalidArgument("Features under " + keys.get(i) + " are a packed vector, not a hash");
        }
      }
      return rows;
    });
  }

  /**
   * Evicts from a near cache what changes in the map, whichever member changed it (an entry
   * listener), and everything after this member merged back from a split cluster, when changes
   * may have been missed.
   */
  void track(Consumer<String> invalidate, Runnable clear) {
    changes = map.addEntryListener(new Changes(invalidate, clear), false);
    lifecycle = hazelcast.getLifecycleService().addLifecycleListener(event -> {
      if (event.getState() == LifecycleEvent.LifecycleState.MERGED) {
        clear.run();
      }
    });
  }

  /** Every kind of change to an entry, and the map cleared or evicted as a whole. */
  private record Changes(Consumer<String> invalidate, Runnable clear) implements EntryAddedListener<String, Object>,
      EntryUpdatedListener<String, Object>, EntryRemovedListener<String, Object>, EntryEvictedListener<String, Object>,
      EntryExpiredListener<String, Object>, MapClearedListener, MapEvictedListener {

    @Override
    public void entryAdded(EntryEvent<String, Object> event) {
      invalidate.accept(event.getKey());
    }

    @Override
    public void entryUpdated(EntryEvent<String, Object> event) {
      invalidate.accept(event.getKey());
    }

    @Override
    public void entryRemoved(EntryEvent<String, Object> event) {
      invalidate.accept(event.getKey());
    }

    @Override
    public void entryEvicted(EntryEvent<String, Object> event) {
      invalidate.accept(event.getKey());
    }

    @Override
    public void entryExpired(EntryEvent<String, Object> event) {
      invalidate.accept(event.getKey());
    }

    @Override
    public void mapCleared(MapEvent event) {
      clear.run();
    }

    @Override
    public void mapEvicted(MapEvent event) {
      clear.run();
    }
  }

  /** Writes one entity's features (the admin API's load). */
  public Future<Void> put(FeatureRecord record) {
    Object value = record.vector() != null ? record.vector() : new HashMap<>(record.hash());
    return Future.fromCompletionStage(map.setAsync(record.key(), value), vertx.getOrCreateContext());
  }

  private Future<List<Object>> getAll(List<String> keys) {
    List<CompletableFuture<Object>> sent = new ArrayList<>(keys.size());
    for (String key : keys) {
      sent.add(map.getAsync(key).toCompletableFuture());
    }
    CompletableFuture<List<Object>> all = CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new))
        .thenApply(done -> sent.stream().map(CompletableFuture::join).toList());
    return Future.fromCompletionStage(all, vertx.getOrCreateContext());
  }

  @Override
  public void close() {
    if (changes != null && hazelcast.getLifecycleService().isRunning()) {
      map.removeEntryListener(changes);
      hazelcast.getLifecycleService().removeLifecycleListener(lifecycle);
    }
    onClose.run();
  }
}
