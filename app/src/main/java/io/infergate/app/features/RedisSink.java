package io.infergate.app.features;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/** Features into Redis (HSET for hashes, SET for vectors), pipelined on one connection. */
public final class RedisSink implements FeatureSink {

  private final String uri;
  private final RedisClient client;
  private final StatefulRedisConnection<String, byte[]> connection;
  private final RedisAsyncCommands<String, byte[]> redis;

  public RedisSink(String uri) {
    this.uri = uri;
    this.client = RedisClient.create(uri);
    this.connection = client.connect(RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE));
    this.redis = connection.async();
  }

  @Override
  public CompletionStage<?> putHash(String key, Map<String, String> values) {
    Map<String, byte[]> hash = new LinkedHashMap<>();
    values.forEach((field, value) -> hash.put(field, value.getBytes(StandardCharsets.UTF_8)));
    return redis.hset(key, hash);
  }

  @Override
  public CompletionStage<?> putVector(String key, byte[] vector) {
    return redis.set(key, vector);
  }

  @Override
  public String target() {
    return uri;
  }

  @Override
  public void close() {
    connection.close();
    client.shutdown();
  }
}
