package io.infergate.gateway.features;

import io.infergate.common.metrics.MetricNames;
import com.google.protobuf.UnsafeByteOperations;
import io.infergate.common.config.ConfigException;
import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.infergate.proto.features.FailurePolicy;
import io.infergate.proto.features.FeatureConfig;
import io.infergate.proto.features.FeatureInput;
import io.infergate.proto.features.ModelFeatures;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Adds the features a model needs to its requests: clients send entity ids (fields of each
 * instance), the enricher builds each input's keys from them, fetches the values from the
 * feature store (one round trip per input for all instances) within a time budget, and applies
 * the model's failure policy when the store is slow or down. Inputs the request supplies itself
 * are not fetched.
 */
public final class FeatureEnricher {

  private final FeatureStore store;
  private final Map<String, Model> models = new HashMap<>();
  private final long timeoutMillis;
  private final MeterRegistry meters;
  /** Meters built once per tag set: registering one per request costs allocations and a lookup. */
  private final Map<String, Timer> fetchTimers = new ConcurrentHashMap<>();
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();

  private record Input(FeatureInput spec, KeyTemplate key) {}

  private record Model(String name, List<Input> inputs, FailurePolicy onFailure) {}

  /** The inputs to fetch for one request and the request fields their keys need. */
  public static final class Plan {
    private final Model model;
    private final List<Input> inputs;
    private final Set<String> entityFields;

    private Plan(Model model, List<Input> inputs, Set<String> entityFields) {
      this.model = model;
      this.inputs = inputs;
      this.entityFields = entityFields;
    }

    /** The inputs fetched. */
    public Set<String> inputs() {
      Set<String> names = new LinkedHashSet<>();
      inputs.forEach(input -> names.add(input.spec().getInput()));
      return names;
    }

    /** The request fields (entity ids) the keys are built from; the request must carry them. */
    public Set<String> entityFields() {
      return entityFields;
    }

    public boolean isEmpty() {
      return inputs.isEmpty();
    }
  }

  private static final Plan NOTHING = new Plan(null, List.of(), Set.of());

  public FeatureEnricher(FeatureConfig config, FeatureStore store, MeterRegistry meters) {
    this.store = store;
    this.meters = meters;
    this.timeoutMillis = FeatureStores.timeoutMillis(config);
    for (ModelFeatures model : config.getModelList()) {
      List<Input> inputs = new ArrayList<>();
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
        inputs.add(new Input(input, new KeyTemplate(input.getKey())));
      }
      if (model.getOnFailure() == FailurePolicy.STALE && !store.keepsLastValues()) {
        throw new ConfigException("Model " + model.getModel() + " has on_failure: STALE, which serves the near "
            + "cache's last values: give the store (its redis or hazelcast block) a near_cache");
      }
      models.put(model.getModel(), new Model(model.getModel(), inputs, model.getOnFailure()));
    }
  }

  public FeatureStore store() {
    return store;
  }

  /** What to fetch for a request to {@code model} that supplies the inputs {@code supplied} itself. */
  public Plan plan(String model, Set<String> supplied) {
    Model spec = models.get(model);
    if (spec == null) {
      return NOTHING;
    }
    List<Input> inputs = new ArrayList<>(spec.inputs().size());
    Set<String> fields = new LinkedHashSet<>();
    for (Input input : spec.inputs()) {
      if (!supplied.contains(input.spec().getInput())) {
        inputs.add(input);
        fields.addAll(input.key().fields());
      }
    }
    return inputs.isEmpty() ? NOTHING : new Plan(spec, inputs, fields);
  }

  /**
   * The fetched inputs, [instances, size] floats each.
   *
   * @param ids each entity field of the plan with its value per instance
   */
  public Future<Map<String, TensorProto>> fetch(Plan plan, Map<String, List<String>> ids, long deadlineNanos) {
    int instances = ids.values().stream().mapToInt(List::size).max().orElse(0);
    long budget = Math.min(timeoutMillis, Math.max(1, (deadlineNanos - System.nanoTime()) / 1_000_000));
    List<Future<TensorProto>> fetched = new ArrayList<>(plan.inputs.size());
    for (Input input : plan.inputs) {
      List<String> keys = new ArrayList<>(instances);
      for (int i = 0; i < instances; i++) {
        keys.add(input.key().key(ids, i));
      }
      long started = System.nanoTime();
      fetched.add(fetch(plan.model.name(), input.spec(), keys).timeout(budget, TimeUnit.MILLISECONDS)
          .onComplete(result -> timed(plan.model.name(), outcome(result.cause()), started))
          .recover(failure -> onFailure(plan.model, input.spec(), keys, failure)));
    }
    return Future.all(fetched).map(all -> {
      Map<String, TensorProto> inputs = new LinkedHashMap<>();
      for (int i = 0; i < plan.inputs.size(); i++) {
        inputs.put(plan.inputs.get(i).spec().getInput(), all.resultAt(i));
      }
      return inputs;
    });
  }

  private Future<TensorProto> fetch(String model, FeatureInput input, List<String> keys) {
    if (input.getHashFieldsCount() > 0) {
      return store.hashes(keys, input.getHashFieldsList())
          .map(rows -> assemble(model, input, keys, rows, FeatureEnricher::putHash, "missing"));
    }
    return store.vectors(keys).map(vectors -> assemble(model, input, keys, vectors, FeatureEnricher::putVector, "missing"));
  }

  /** Writes one entity's values. */
  private interface RowWriter<T> {
    void write(ByteBuffer out, T row, FeatureInput input, String key);
  }

  /** The input's tensor from one row per key; a missing row takes the defaults (counted by {@code reason}). */
  private <T> TensorProto assemble(String model, FeatureInput input, List<String> keys, List<T> rows,
                                   RowWriter<T> writer, String reason) {
    ByteBuffer out = ByteBuffer.allocate(keys.size() * input.getSize() * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < keys.size(); i++) {
      T row = rows.get(i);
      if (row == null) {
        putDefaults(out, input, keys.get(i));
        count(MetricNames.FEATURES_DEFAULTS, "Default values served: for a missing entity, or because the store failed",
            model, "reason", reason);
      } else {
        writer.write(out, row, input, keys.get(i));
      }
    }
    return TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
        .setTensorShape(TensorShapeProto.newBuilder()
            .addDim(TensorShapeProto.Dim.newBuilder().setSize(keys.size()))
            .addDim(TensorShapeProto.Dim.newBuilder().setSize(input.getSize())))
        .setTensorContent(UnsafeByteOperations.unsafeWrap(out.array())).build();
  }

  private static void putHash(ByteBuffer out, List<String> row, FeatureInput input, String key) {
    for (int f = 0; f < input.getSize(); f++) {
      String value = row.get(f);
      out.putFloat(value == null ? defaultAt(input, f, key) : parse(value, key));
    }
  }

  private static void putVector(ByteBuffer out, byte[] vector, FeatureInput input, String key) {
    if (vector.length != input.getSize() * 4) {
      throw ServingException.invalidArgument("Feature vector " + key + " holds " + vector.length
          + " bytes, not " + input.getSize() + " float32 values");
    }
    out.put(vector);
  }

  /** The store is slow or down: fail fast, serve the defaults, or serve the last values seen. */
  private Future<TensorProto> onFailure(Model model, FeatureInput input, List<String> keys, Throwable failure) {
    if (failure instanceof ServingException serving && serving.code() != StatusCode.UNAVAILABLE) {
      return Future.failedFuture(serving);
    }
    boolean hasDefaults = input.getDefaultValueCount() > 0;
    if (model.onFailure() == FailurePolicy.STALE) {
      boolean hashes = input.getHashFieldsCount() > 0;
      List<?> last = hashes ? store.lastHashes(keys, input.getHashFieldsList()) : store.lastVectors(keys);
      long known = last.stream().filter(row -> row != null).count();
      if (known == keys.size() || hasDefaults) {
        count(MetricNames.FEATURES_STALE, "Entities served with the near cache's last values because the store failed",
            model.name(), "input", input.getInput(), known);
        @SuppressWarnings("unchecked")
        TensorProto tensor = hashes
            ? assemble(model.name(), input, keys, (List<List<String>>) last, FeatureEnricher::putHash, "store_unavailable")
            : assemble(model.name(), input, keys, (List<byte[]>) last, FeatureEnricher::putVector, "store_unavailable");
        return Future.succeededFuture(tensor);
      }
    } else if (model.onFailure() == FailurePolicy.DEFAULTS && hasDefaults) {
      List<byte[]> none = Arrays.asList(new byte[keys.size()][]);
      return Future.succeededFuture(assemble(model.name(), input, keys, none, FeatureEnricher::putVector,
          "store_unavailable"));
    }
    String reason = failure instanceof TimeoutException || failure.getMessage() == null
        ? "no answer within " + timeoutMillis + " ms" : failure.getMessage();
    return Future.failedFuture(ServingException.unavailable("Feature store unavailable: " + reason));
  }

  private static String outcome(Throwable failure) {
    return failure == null ? "ok" : failure instanceof TimeoutException ? "timeout" : "error";
  }

  private void timed(String model, String outcome, long startedNanos) {
    fetchTimers.computeIfAbsent(model + '\0' + outcome, key -> Timer.builder(MetricNames.FEATURES_FETCH)
            .description("Time to fetch one input's features for all instances of a request")
            .tags("model", model, "outcome", outcome)
            .serviceLevelObjectives(Duration.ofNanos(250_000), Duration.ofNanos(500_000), Duration.ofMillis(1),
                Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
                Duration.ofMillis(50), Duration.ofMillis(100))
            .register(meters))
        .record(System.nanoTime() - startedNanos, TimeUnit.NANOSECONDS);
  }

  private void count(String name, String description, String model, String tag, String value) {
    count(name, description, model, tag, value, 1);
  }

  private void count(String name, String description, String model, String tag, String value, long amount) {
    counters.computeIfAbsent(name + '\0' + model + '\0' + value, key -> Counter.builder(name)
            .description(description).tags("model", model, tag, value).register(meters))
        .increment(amount);
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

  public void close() {
    store.close();
  }
}
