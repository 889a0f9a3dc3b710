package io.infergate.common.registry;

import com.google.protobuf.InvalidProtocolBufferException;
import io.infergate.common.ServableId;
import io.infergate.common.status.StatusCode;
import io.infergate.proto.registry.ModelEntry;
import io.infergate.proto.registry.ServableEntry;
import io.infergate.proto.registry.TrafficPolicy;
import io.infergate.proto.serving.ModelVersionStatus.State;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * A registry kept in two maps of protobuf bytes: one entry per servable per worker
 * ({@code model/version@worker}) and one per model (labels, traffic policy). Implementations
 * choose the maps (in-process or replicated across the cluster); the snapshot that merges them
 * is built here, once per change, and read without locks.
 */
public abstract class StoredModelRegistry implements ModelRegistry {

  private final String worker;
  private final List<Runnable> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile RoutingSnapshot snapshot = RoutingSnapshot.EMPTY;

  protected StoredModelRegistry(String worker) {
    this.worker = worker;
  }

  /** Servable entries of every worker, keyed {@code model/version@worker}. */
  protected abstract Map<String, byte[]> servables();

  /** Model entries, keyed by model name. */
  protected abstract Map<String, byte[]> models();

  @Override
  public RoutingSnapshot snapshot() {
    return snapshot;
  }

  @Override
  public void onChange(Runnable listener) {
    listeners.add(listener);
  }

  @Override
  public Future<Void> publish(ServableRecord record) {
    ServableId id = record.id();
    ensureModel(id.name());
    servables().put(key(id, worker), ServableEntry.newBuilder()
        .setModel(id.name()).setVersion(id.version()).setState(record.state().getNumber())
        .setErrorCode(record.errorCode().number()).setErrorMessage(record.errorMessage())
        .setSignatures(record.signatures()).setWorker(worker)
        .build().toByteArray());
    return changed();
  }

  @Override
  public Future<Void> remove(ServableId id) {
    servables().remove(key(id, worker));
    return changed();
  }

  @Override
  public Future<Void> setLabels(String model, Map<String, Long> labels) {
    ModelEntry entry = modelEntry(model);
    models().put(model, entry.toBuilder().clearLabels().putAllLabels(labels).build().toByteArray());
    return changed();
  }

  @Override
  public Future<Void> setTrafficPolicy(String model, TrafficPolicy policy) {
    ModelEntry entry = modelEntry(model);
    models().put(model, entry.toBuilder().setTraffic(policy).build().toByteArray());
    return changed();
  }

  /** Forgets this worker's servables of the model; the model itself once no worker serves it. */
  @Override
  public Future<Void> removeModel(String model) {
    removeServables(key -> key.startsWith(model + "/") && key.endsWith("@" + worker));
    if (List.copyOf(servables().keySet()).stream().noneMatch(key -> key.startsWith(model + "/"))) {
      models().remove(model);
    }
    return changed();
  }

  /** Forgets every servable of a worker that left. */
  protected void forgetWorker(String departed) {
    removeServables(key -> key.endsWith("@" + departed));
    rebuild();
  }

  /** Removes by key one at a time: a replicated map's key set is a copy, not a view. */
  private void removeServables(java.util.function.Predicate<String> which) {
    for (String key : List.copyOf(servables().keySet())) {
      if (which.test(key)) {
        servables().remove(key);
      }
    }
  }

  /**
   * Builds a new snapshot from the maps; implementations call it when the maps change.
   * Serialised: Hazelcast delivers entry events on several threads, and an unserialised rebuild
   * that read the maps before a change could publish its snapshot after the rebuild that saw the
   * change, leaving a stale view (a version unloaded everywhere still listed) until the next change.
   */
  protected final synchronized void rebuild() {
    Map<String, ModelEntry> entries = new HashMap<>();
    models().forEach((name, bytes) -> entries.put(name, parse(bytes, ModelEntry.getDefaultInstance())));
    Map<String, Map<Long, List<ServableEntry>>> grouped = new HashMap<>();
    servables().values().forEach(bytes -> {
      ServableEntry entry = parse(bytes, ServableEntry.getDefaultInstance());
      grouped.computeIfAbsent(entry.getModel(), m -> new TreeMap<>())
          .computeIfAbsent(entry.getVersion(), v -> new ArrayList<>()).add(entry);
    });
    Map<String, ModelView> views = new HashMap<>();
    for (String name : entries.keySet()) {
      NavigableMap<Long, ServableRecord> versions = new TreeMap<>();
      grouped.getOrDefault(name, Map.of()).forEach((version, onWorkers) ->
          versions.put(version, merge(new ServableId(name, version), onWorkers)));
      ModelEntry entry = entries.get(name);
      views.put(name, new ModelView(name, versions, entry.getLabelsMap(), entry.getTraffic()));
    }
    snapshot = new RoutingSnapshot(views);
    listeners.forEach(Runnable::run);
  }

  /** Changes made through this registry are visible to its own readers at once. */
  protected Future<Void> changed() {
    rebuild();
    return Future.succeededFuture();
  }

  /** One version across workers: AVAILABLE where any worker serves it, else the furthest state seen. */
  private static ServableRecord merge(ServableId id, List<ServableEntry> onWorkers) {
    List<String> serving = new ArrayList<>();
    ServableEntry best = onWorkers.get(0);
    for (ServableEntry entry : onWorkers) {
      if (entry.getState() == State.AVAILABLE_VALUE) {
        serving.add(entry.getWorker());
      }
      if (rank(entry.getState()) > rank(best.getState())) {
        best = entry;
      }
    }
    return new ServableRecord(id, State.forNumber(best.getState()), StatusCode.ofNumber(best.getErrorCode()),
        best.getErrorMessage(), best.getSignatures(), serving);
  }

  /** Which state of a version on several workers describes it best. */
  private static int rank(int state) {
    return switch (State.forNumber(state)) {
      case AVAILABLE -> 5;
      case LOADING -> 4;
      case UNLOADING -> 3;
      case START -> 2;
      case END -> 1;
      default -> 0;
    };
  }

  private void ensureModel(String model) {
    if (!models().containsKey(model)) {
      models().putIfAbsent(model, ModelEntry.newBuilder().setModel(model).build().toByteArray());
    }
  }

  private ModelEntry modelEntry(String model) {
    byte[] bytes = models().get(model);
    return bytes == null ? ModelEntry.newBuilder().setModel(model).build() : parse(bytes, ModelEntry.getDefaultInstance());
  }

  private static String key(ServableId id, String worker) {
    return id.name() + "/" + id.version() + "@" + worker;
  }

  @SuppressWarnings("unchecked")
  private static <T extends com.google.protobuf.Message> T parse(byte[] bytes, T prototype) {
    try {
      return (T) prototype.getParserForType().parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("Corrupt registry entry", e);
    }
  }
}
