package io.infergate.gateway.features;

import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.infergate.gateway.cache.SharedResponseStore;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SetArgs;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.api.push.PushListener;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.TrackingArgs;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.net.SocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Features in Redis through Lettuce, fully asynchronous on one shared connection (Lettuce
 * connections are thread-safe and pipeline the commands written to them). Results come back on
 * the caller's Vert.x context.
 *
 * <p>Redis coming back is noticed within a second however it went away. A closed connection is
 * reconnected by Lettuce, retrying every half second at most (its default backs off to 30 s).
 * A connection cut off without a reset (a network partition) stays open while every command
 * times out, and TCP would resume it only at its next retransmission, seconds after the network
 * heals: once no command has succeeded for {@link #STALLED} while they time out, a fresh
 * connection is opened and swapped in.
 *
 * <p>The same connection handling serves the shared response cache, as plain keys with a TTL.
 */
public final class RedisFeatureStore implements FeatureStore, SharedResponseStore {

  private static final Logger LOG = LoggerFactory.getLogger(RedisFeatureStore.class);
  private static final RedisCodec<String, byte[]> CODEC = RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);
  /** No success for this long while commands time out: the connection is presumed cut off. */
  static final Duration STALLED = Duration.ofSeconds(1);
  private static final Duration MAX_RECONNECT_DELAY = Duration.ofMillis(500);
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);

  private final ClientResources resources;
  private final RedisClient client;
  private final RedisURI uri;
  private final Vertx vertx;
  private final List<PushListener> pushListeners = new CopyOnWriteArrayList<>();
  private volatile StatefulRedisConnection<String, byte[]> connection;
  private volatile RedisAsyncCommands<String, byte[]> redis;
  private volatile long lastSuccessNanos = System.nanoTime();
  private final AtomicBoolean replacing = new AtomicBoolean();

  public RedisFeatureStore(Vertx vertx, String uri, Duration timeout) {
    this.vertx = vertx;
    this.uri = RedisURI.create(uri);
    this.resources = DefaultClientResources.builder()
        .reconnectDelay(Delay.exponential(Duration.ofMillis(50), MAX_RECONNECT_DELAY, 2, TimeUnit.MILLISECONDS))
        .build();
    this.client = RedisClient.create(resources, this.uri);
    client.setOptions(ClientOptions.builder()
        .autoReconnect(true)
        .timeoutOptions(TimeoutOptions.enabled(timeout))
        .socketOptions(SocketOptions.builder().connectTimeout(CONNECT_TIMEOUT).build())
        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
        .build());
    use(client.connect(CODEC));
  }

  private void use(StatefulRedisConnection<String, byte[]> fresh) {
    pushListeners.forEach(fresh::addListener);
    connection = fresh;
    redis = fresh.async();
    lastSuccessNanos = System.nanoTime();
  }

  /**
   * Notes how a command ended: a success, a timeout that may mean the connection is cut off, or a
   * lost connection. The last ends the cache's freshness here, before the caller hears of the
   * failure, rather than whenever Lettuce's disconnect event arrives on its own thread: invalidations
   * may be lost from the moment the connection is.
   */
  private <T> CompletableFuture<T> watched(CompletableFuture<T> command) {
    return command.whenComplete((value, failure) -> {
      if (failure == null) {
        lastSuccessNanos = System.nanoTime();
      } else if (isA(failure, RedisCommandTimeoutException.class)) {
        replaceIfStalled();
      } else if (!isA(failure, RedisCommandExecutionException.class)) {
        clearCache.run();
      }
    });
  }

  private static boolean isA(Throwable failure, Class<? extends Throwable> kind) {
    return kind.isInstance(failure) || kind.isInstance(failure.getCause());
  }

  private void replaceIfStalled() {
    if (System.nanoTime() - lastSuccessNanos < STALLED.toNanos() || !replacing.compareAndSet(false, true)) {
      return;
    }
    StatefulRedisConnection<String, byte[]> stalled = connection;
    client.connectAsync(CODEC, uri).whenComplete((fresh, failure) -> {
      if (failure == null) {
        LOG.warn("Redis stopped answering on its connection for over {} ms; switched to a new one", STALLED.toMillis());
        use(fresh);
        if (tracking) {
          redis.clientTracking(TrackingArgs.Builder.enabled());
          clearCache.run();
        }
        stalled.closeAsync();
      }
      // On failure Redis is still out of reach: the next timeout tries again.
      lastSuccessNanos = failure == null ? lastSuccessNanos : System.nanoTime();
      replacing.set(false);
    });
  }

  @Override
  public Future<byte[]> get(String name) {
    return onContext(watched(redis.get(name).toCompletableFuture()));
  }

  @Override
  public void set(String name, byte[] value, long ttlMillis) {
    watched(redis.set(name, value, SetArgs.Builder.px(ttlMillis)).toCompletableFuture())
        .whenComplete((ok, failure) -> {
          if (failure != null) {
            LOG.debug("Could not share a cached answer: {}", failure.toString());
          }
        });
  }

  @Override
  public Future<List<byte[]>> vectors(List<String> keys) {
    CompletableFuture<List<byte[]>> values = watched(redis.mget(keys.toArray(String[]::new)).toCompletableFuture())
        .thenApply(found -> found.stream().map(kv -> kv.getValueOrElse(null)).toList());
    return onContext(values);
  }

  @Override
  public Future<List<List<String>>> hashes(List<String> keys, List<String> fields) {
    List<CompletableFuture<List<KeyValue<String, byte[]>>>> sent = new ArrayList<>(keys.size());
    RedisAsyncCommands<String, byte[]> commands = redis;
    for (String key : keys) {
      RedisFuture<List<KeyValue<String, byte[]>>> values = commands.hmget(key, fields.toArray(String[]::new));
      sent.add(watched(values.toCompletableFuture()));
    }
    CompletableFuture<List<List<String>>> all = CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new))
        .thenApply(done -> sent.stream().map(CompletableFuture::join).map(RedisFeatureStore::texts).toList());
    return onContext(all);
  }

  /** A hash's field values as text; null when the entity has none of them. */
  private static List<String> texts(List<KeyValue<String, byte[]>> values) {
    if (values.stream().noneMatch(KeyValue::hasValue)) {
      return null;
    }
    List<String> texts = new ArrayList<>(values.size());
    values.forEach(kv -> texts.add(kv.hasValue() ? new String(kv.getValue(), StandardCharsets.UTF_8) : null));
    return texts;
  }

  private <T> Future<T> onContext(CompletableFuture<T> result) {
    Context context = vertx.getOrCreateContext();
    return Future.fromCompletionStage(result, context);
  }

  /**
   * Redis client-side caching: Redis tells this connection when a key it read changes. Tracking
   * is switched on again after every reconnect, and the cache emptied, since invalidations are
   * lost while disconnected.
   */
  void track(Consumer<String> invalidate, Runnable clear) {
    PushListener invalidations = message -> {
      if (!"invalidate".equals(message.getType())) {
        return;
      }
      Object keys = message.getContent(StringCodec.UTF8::decodeKey).get(1);
      if (keys instanceof List<?> list) {
        list.forEach(key -> invalidate.accept(String.valueOf(key)));
      } else {
        clear.run();
      }
    };
    pushListeners.add(invalidations);
    connection.addListener(invalidations);
    tracking = true;
    clearCache = clear;
    client.addListener(new RedisConnectionStateListener() {
      @Override
      public void onRedisConnected(RedisChannelHandler<?, ?> channel, SocketAddress address) {
        clear.run();
        redis.clientTracking(TrackingArgs.Builder.enabled());
      }

      @Override
      public void onRedisDisconnected(RedisChannelHandler<?, ?> channel) {
        clear.run();
      }
    });
    redis.clientTracking(TrackingArgs.Builder.enabled());
  }

  private volatile boolean tracking;
  private volatile Runnable clearCache = () -> { };

  @Override
  public void close() {
    connection.close();
    client.shutdown();
    resources.shutdown();
  }
}
