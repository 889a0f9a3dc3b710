package io.infergate.gateway.features;

import io.lettuce.core.KeyValue;
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
import java.util.function.Consumer;
import java.net.SocketAddress;

/**
 * Features in Redis through Lettuce, fully asynchronous on one shared connection (Lettuce
 * connections are thread-safe and pipeline the commands written to them). Results come back on
 * the caller's Vert.x context; Lettuce reconnects by itself when Redis returns.
 */
public final class RedisFeatureStore implements FeatureStore {

  private final RedisClient client;
  private final StatefulRedisConnection<String, byte[]> connection;
  private final RedisAsyncCommands<String, byte[]> redis;
  private final Vertx vertx;

  public RedisFeatureStore(Vertx vertx, String uri, Duration timeout) {
    this.vertx = vertx;
    this.client = RedisClient.create(uri);
    client.setOptions(ClientOptions.builder()
        .autoReconnect(true)
        .timeoutOptions(TimeoutOptions.enabled(timeout))
        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
        .build());
    this.connection = client.connect(RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE));
    this.redis = connection.async();
  }

  @Override
  public Future<List<byte[]>> vectors(List<String> keys) {
    CompletableFuture<List<byte[]>> values = redis.mget(keys.toArray(String[]::new)).toCompletableFuture()
        .thenApply(found -> found.stream().map(kv -> kv.getValueOrElse(null)).toList());
    return onContext(values);
  }

  @Override
  public Future<List<List<String>>> hashes(List<String> keys, List<String> fields) {
    List<CompletableFuture<List<KeyValue<String, byte[]>>>> sent = new ArrayList<>(keys.size());
    for (String key : keys) {
      RedisFuture<List<KeyValue<String, byte[]>>> values = redis.hmget(key, fields.toArray(String[]::new));
      sent.add(values.toCompletableFuture());
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
    connection.addListener(message -> {
      if (!"invalidate".equals(message.getType())) {
        return;
      }
      Object keys = message.getContent(StringCodec.UTF8::decodeKey).get(1);
      if (keys instanceof List<?> list) {
        list.forEach(key -> invalidate.accept(String.valueOf(key)));
      } else {
        clear.run();
      }
    });
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

  @Override
  public void close() {
    connection.close();
    client.shutdown();
  }
}
