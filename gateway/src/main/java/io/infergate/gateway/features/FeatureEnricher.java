package io.infergate.gateway.features;

import com.google.protobuf.UnsafeByteOperations;
import io.infergate.common.config.ConfigException;
import io.infergate.common.status.ServingException;
import io.infergate.proto.features.FailurePolicy;
import io.infergate.proto.features.FeatureConfig;
import io.infergate.proto.features.FeatureInput;
import io.infergate.proto.features.ModelFeatures;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import java.time.Duration;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Adds the features a model needs to its requests: clients send entity ids (fields of each
 * instance), the enricher builds each input's keys from them, fetches the values from the
 * feature store (one round trip per input for all instances) within a time budget, and applies
 * the model's failure policy when the store is slow or down.
 */
public final class FeatureEnricher {

  private final FeatureStore store;
  private final Map<String, Model> models = new HashMap<>();
  private final long timeoutMillis;
  private final MeterRegistry meters;

  private record Input(FeatureInput spec, KeyTemplate key) {}

  private record Model(List<Input> inputs, FailurePolicy onFailure, Set<String> entityFields) {}

  public FeatureEnricher(FeatureConfig config, FeatureStore store, MeterRegistry meters) {
    this.store = store;
    this.meters = meters;
    this.timeoutMillis = config.getRedis().getTimeoutMs() > 0 ? config.getRedis().getTimeoutMs() : 50;
    for (ModelFeatures model : config.getModelList()) {
      List<Input> inputs = new ArrayList<>();
      Set<String> fields = new LinkedHashSet<>();
      for (FeatureInput input : model.getInputList()) {
        if (input.getInput().isEmpty() || input.getSize() < 1) {
          throw new ConfigException("Every feature input of model " + model.getModel() + " needs an input and a size");
        }
        if (input.getHashFieldsCount() > 0 && input.getHashFieldsCount() != input.getSize()) {
          throw new ConfigException("Feature input " + input.getInput() + " has " + input.getHashFieldsCount()
              + " hash fields but size " + input.getSize());
        }
        if (input.getDefaultValueCount() > 0 && input.getDefaultValueCount() != input.getSize()) {
          throw new ConfigException("Feature input " + input.getInput() + " needs " + input.getSize() + " default values");
        }
        KeyTemplate key = new KeyTemplate(input.getKey());
        fields.addAll(key.fields());
        inputs.add(new Input(input, key));
      }
      models.put(model.getModel(), new Model(inputs, model.getOnFailure(), fields));
    }
  }

  /** The request fields that carry entity ids for a model; empty when it takes no features. */
  public Set<String> entityFields(String model) {
    Model spec = models.get(model);
    return spec == null ? Set.of() : spec.entityFields();
  }

  /**
   * The fetched inputs, [instances, size] floats each.
   *
   * @param ids each entity field's value per instance
   */
  public Future<Map<String, TensorProto>> fetch(String model, Map<String, List<String>> ids, long deadlineNanos) {
    Model spec = models.get(model);
    int instances = ids.values().stream().mapToInt(List::size).max().orElse(0);
    long budget = Math.min(timeoutMillis, Math.max(1, (deadlineNanos - System.nanoTime()) / 1_000_000));
    List<Future<TensorProto>> fetched = new ArrayList<>();
    for (Input input : spec.inputs()) {
      List<String> keys = new ArrayList<>(instances);
      for (int i = 0; i < instances; i++) {
        keys.add(input.key().key(ids, i));
      }
      long started = System.nanoTime();
      fetched.add(fetch(model, input.spec(), keys).timeout(budget, TimeUnit.MILLISECONDS)
          .onComplete(result -> timed(model, result.succeeded() ? "ok"
              : result.cause() instanceof java.util.concurrent.TimeoutException ? "timeout" : "error", started))
          .recover(failure -> onFailure(model, spec, input.spec(), keys, failure)));
    }
    return Future.all(fetched).map(all -> {
      Map<String, TensorProto> inputs = new LinkedHashMap<>();
      for (int i = 0; i < spec.inputs().size(); i++) {
        inputs.put(spec.inputs().get(i).spec().getInput(), all.resultAt(i));
      }
      return inputs;
    });
  }

  private Future<TensorProto> fetch(String model, FeatureInput input, List<String> keys) {
    if (input.getHashFieldsCount() > 0) {
      return store.hashes(keys, input.getHashFieldsList()).map(rows -> {
        ByteBuffer out = floats(keys.size() * input.getSize());
        for (int i = 0; i < rows.size(); i++) {
          List<String> row = rows.get(i);
          if (row == null) {
            putDefaults(out, input, keys.get(i));
            defaulted(model, "missing");
            continue;
          }
          for (int f = 0; f < input.getSize(); f++) {
            String value = row.get(f);
            out.putFloat(value == null ? defaultAt(input, f, keys.get(i)) : parse(value, keys.get(i)));
          }
        }
        return tensor(out, keys.size(), input.getSize());
      });
    }
    return store.vectors(keys).map(vectors -> {
      ByteBuffer out = floats(keys.size() * input.getSize());
      for (int i = 0; i < vectors.size(); i++) {
        byte[] vector = vectors.get(i);
        if (vector == null) {
          putDefaults(out, input, keys.get(i));
          defaulted(model, "missing");
        } else if (vector.length != input.getSize() * 4) {
          throw ServingException.invalidArgument("Feature vector " + keys.get(i) + " holds " + vector.length
              + " bytes, not " + input.getSize() + " float32 values");
        } else {
          out.put(vector);
        }
      }
      return tensor(out, keys.size(), input.getSize());
    });
  }

  /** The store is slow or down: fail fast, or serve every instance with the defaults. */
  private Future<TensorProto> onFailure(String name, Model model, FeatureInput input, List<String> keys,
                                        Throwable failure) {
    if (failure instanceof ServingException serving && serving.code() != io.infergate.common.status.StatusCode.UNAVAILABLE) {
      return Future.failedFuture(serving);
    }
    if (model.onFailure() == FailurePolicy.DEFAULTS && input.getDefaultValueCount() > 0) {
      ByteBuffer out = floats(keys.size() * input.getSize());
      keys.forEach(key -> putDefaults(out, input, key));
      defaulted(name, "store_unavailable");
      return Future.succeededFuture(tensor(out, keys.size(), input.getSize()));
    }
    String reason = failure instanceof java.util.concurrent.TimeoutException || failure.getMessage() == null
        ? "no answer within " + timeoutMillis + " ms" : failure.getMessage();
    return Future.failedFuture(ServingException.unavailable("Feature store unavailable: " + reason));
  }

  private void timed(String model, String outcome, long startedNanos) {
    Timer.builder("infergate.features.fetch")
        .description("Time to fetch one input's features for all instances of a request")
        .tags("model", model, "outcome", outcome)
        .serviceLevelObjectives(Duration.ofNanos(250_000), Duration.ofNanos(500_000), Duration.ofMillis(1),
            Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
            Duration.ofMillis(50), Duration.ofMillis(100))
        .register(meters).record(System.nanoTime() - startedNanos, TimeUnit.NANOSECONDS);
  }

  private void defaulted(String model, String reason) {
    Counter.builder("infergate.features.defaults")
        .description("Default values served: for a missing entity, or because the store failed")
        .tags("model", model, "reason", reason).register(meters).increment();
  }

  private static void putDefaults(ByteBuffer out, FeatureInput input, String key) {
    for (int f = 0; f < input.getSize(); f++) {
      out.putFloat(defaultAt(input, f, key));
    }
  }

  private static float defaultAt(FeatureInput input, int index, String key) {
    if (input.getDefaultValueCount() == 0) {
      throw ServingException.notFound("No features stored under " + key + " and no default for input " + input.getInput());
    }
    return input.getDefaultValue(index);
  }

  private static float parse(String value, String key) {
    try {
      return Float.parseFloat(value);
    } catch (NumberFormatException e) {
      throw ServingException.invalidArgument("Feature of " + key + " is not a number: " + value);
    }
  }

  private static ByteBuffer floats(int count) {
    return ByteBuffer.allocate(count * 4).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static TensorProto tensor(ByteBuffer values, int instances, int size) {
    return TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
        .setTensorShape(TensorShapeProto.newBuilder()
            .addDim(TensorShapeProto.Dim.newBuilder().setSize(instances))
            .addDim(TensorShapeProto.Dim.newBuilder().setSize(size)))
        .setTensorContent(UnsafeByteOperations.unsafeWrap(values.array())).build();
  }

  public void close() {
    store.close();
  }

  /** The enricher of a feature config: Redis, behind a near cache when the config asks for one. Blocks to connect. */
  public static FeatureEnricher connect(io.vertx.core.Vertx vertx, FeatureConfig config, MeterRegistry meters) {
    var redisConfig = config.getRedis();
    RedisFeatureStore redis = new RedisFeatureStore(vertx, redisConfig.getUri(),
        Duration.ofMillis(redisConfig.getTimeoutMs() > 0 ? redisConfig.getTimeoutMs() : 50));
    if (!redisConfig.hasNearCache() || redisConfig.getNearCache().getMaxEntries() <= 0) {
      return new FeatureEnricher(config, redis, meters);
    }
    var near = redisConfig.getNearCache();
    NearCache<Object> cache = new NearCache<>(near.getMaxEntries(), near.getTtlMs() > 0 ? near.getTtlMs() : 1000);
    if (near.getTracking()) {
      redis.track(cache::invalidate, cache::clear);
    }
    return new FeatureEnricher(config, new CachingFeatureStore(redis, cache, meters), meters);
  }
}
