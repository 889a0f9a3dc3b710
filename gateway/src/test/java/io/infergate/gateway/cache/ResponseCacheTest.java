package io.infergate.gateway.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.infergate.common.ServableId;
import io.infergate.common.registry.LocalModelRegistry;
import io.infergate.common.registry.ServableRecord;
import io.infergate.proto.policy.CachePolicy;
import io.infergate.proto.serving.ModelSpec;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.proto.serving.PredictResponse;
import io.infergate.proto.serving.SignatureDefMap;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/** This gateway's cache: keys, TTLs, the byte bound and versions leaving service. */
class ResponseCacheTest {

  static final ServableId V1 = new ServableId("m", 1);
  static final ServableId V2 = new ServableId("m", 2);
  static final CachePolicy MINUTE = CachePolicy.newBuilder().setTtlMillis(60_000).build();

  final LocalModelRegistry registry = new LocalModelRegistry();
  final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  final ResponseCache cache = new ResponseCache(registry, null, meters);

  static TensorProto floats(float... values) {
    TensorProto.Builder tensor = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
        .setTensorShape(TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(values.length)));
    for (float value : values) {
      tensor.addFloatVal(value);
    }
    return tensor.build();
  }

  static PredictResponse answer(String name) {
    return PredictResponse.newBuilder().setModelSpec(ModelSpec.newBuilder().setName(name)).build();
  }

  PredictResponse get(CacheKey key, CachePolicy policy) throws Exception {
    return cache.get(key, policy).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @Test
  void keysIgnoreTheOrderAClientWroteItsInputsAndFiltersIn() {
    PredictRequest ab = PredictRequest.newBuilder().putInputs("a", floats(1)).putInputs("b", floats(2))
        .addOutputFilter("y").addOutputFilter("z").build();
    PredictRequest ba = PredictRequest.newBuilder().putInputs("b", floats(2)).putInputs("a", floats(1))
        .addOutputFilter("z").addOutputFilter("y").build();
    assertThat(CacheKey.of(V1, "serving_default", ab)).isEqualTo(CacheKey.of(V1, "serving_default", ba));
    assertThat(CacheKey.of(V1, "serving_default", ab)).isNotEqualTo(CacheKey.of(V2, "serving_default", ab));
    assertThat(CacheKey.of(V1, "serving_default", ab)).isNotEqualTo(CacheKey.of(V1, "other", ab));
    PredictRequest changed = ab.toBuilder().putInputs("b", floats(3)).build();
    assertThat(CacheKey.of(V1, "serving_default", ab)).isNotEqualTo(CacheKey.of(V1, "serving_default", changed));
    assertThat(CacheKey.of(V1, "s", ab).sharedName()).startsWith("infergate:answer:m:1:")
        .hasSize("infergate:answer:m:1:".length() + 64).isEqualTo(CacheKey.of(V1, "s", ba).sharedName());
  }

  @Test
  void anAnswerIsServedUntilItsTtlEnds() throws Exception {
    CacheKey key = key(V1, 1);
    assertThat(get(key, MINUTE)).isNull();
    cache.put(key, answer("first"), MINUTE);
    assertThat(get(key, MINUTE)).isEqualTo(answer("first"));
    CachePolicy brief = CachePolicy.newBuilder().setTtlMillis(1).build();
    CacheKey other = key(V1, 2);
    cache.put(other, answer("brief"), brief);
    Thread.sleep(5);
    assertThat(get(other, brief)).isNull();
    assertThat(meters.get("infergate.response.cache.hits").tag("tier", "local").counter().count()).isEqualTo(1);
    assertThat(meters.get("infergate.response.cache.misses").counter().count()).isEqualTo(2);
    assertThat(meters.get("infergate.response.cache.evictions").tag("reason", "expired").counter().count()).isEqualTo(1);
  }

  @Test
  void theLeastRecentlyUsedAnswersGoWhenTheBytesRunOut() throws Exception {
    PredictResponse big = PredictResponse.newBuilder().setModelSpec(ModelSpec.newBuilder()
        .setName("x".repeat(1000))).build();
    CachePolicy small = MINUTE.toBuilder().setMaxBytes(3 * 1200).build();
    for (int i = 0; i < 3; i++) {
      cache.put(key(V1, i), big, small);
    }
    assertThat(get(key(V1, 0), small)).isNotNull(); // now the most recently used
    cache.put(key(V1, 3), big, small);
    assertThat(get(key(V1, 1), small)).as("least recently used").isNull();
    assertThat(get(key(V1, 0), small)).isNotNull();
    assertThat(get(key(V1, 3), small)).isNotNull();
    assertThat(meters.get("infergate.response.cache.bytes").gauge().value()).isBetween(2 * 1000.0, 3 * 1200.0);
    assertThat(meters.get("infergate.response.cache.evictions").tag("reason", "size").counter().count()).isEqualTo(1);
  }

  @Test
  void answersOfAVersionThatLeavesServiceAreDropped() throws Exception {
    registry.publish(ServableRecord.available(V1, SignatureDefMap.getDefaultInstance())).await();
    registry.publish(ServableRecord.available(V2, SignatureDefMap.getDefaultInstance())).await();
    cache.put(key(V1, 0), answer("v1"), MINUTE);
    cache.put(key(V2, 0), answer("v2"), MINUTE);
    registry.remove(V1).await();
    assertThat(get(key(V1, 0), MINUTE)).isNull();
    assertThat(get(key(V2, 0), MINUTE)).isEqualTo(answer("v2"));
    assertThat(meters.get("infergate.response.cache.evictions").tag("reason", "version").counter().count()).isEqualTo(1);
  }

  static CacheKey key(ServableId servable, int input) {
    return CacheKey.of(servable, "serving_default", PredictRequest.newBuilder()
        .putInputs("x", floats(input)).build());
  }
}
