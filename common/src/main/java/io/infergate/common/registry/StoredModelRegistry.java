package io.infergate.common.registry;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.infergate.common.cluster.ClusterSecret;
import io.infergate.common.ServableId;
import io.infergate.common.status.StatusCode;
import io.infergate.proto.registry.ModelEntry;
import io.infergate.proto.registry.ModelOverrides;
import io.infergate.proto.registry.ServableEntry;
import io.infergate.proto.serving.ModelVersionStatus.State;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A registry kept in three maps of protobuf bytes: one entry per servable per worker
 * ({@code model/version@worker}), one per model (labels, traffic policy), and one per model an
 * operator changed (labels, pins). Implementations
 * choose the maps (in-process or replicated across the cluster); the snapshot that merges them
 * is built here, once per change, and read without locks. With a cluster secret every value is
 * sealed with an HMAC of its map, key and bytes, and a value whose seal does not hold is left out
 * of the snapshot: whoever can write to the maps without the secret cannot route traffic.
 */
public abstract class StoredModelRegistry implements ModelRegistry {

  private static final Logger LOG = LoggerFactory.getLogger(StoredModelRegistry.class);
  private static final String SERVABLE_CONTEXT = "servable/";
  private static final String MODEL_CONTEXT = "model/";
  private static final String OVERRIDES_CONTEXT = "overrides/";
  /** One thread for the registries of a process (one, but for tests): writes stay in order. */
  private static final Executor WRITER = Executors.newSingleThreadExecutor(runnable -> {
    Thread thread = new Thread(runnable, "infergate-registry-writer");
    thread.setDaemon(true);
    return thread;
  });
  /** The version of an operator's label that removes the config's label of that name. */
  public static final long REMOVED_LABEL = -1;

  private final String worker;
  private final ClusterSecret secret;
  private final List<Listener> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();
  /** This worker's own entries as it published them, to publish again after a partition heals. */
  private final Map<String, byte[]> own = new java.util.concurrent.ConcurrentHashMap<>();
  private volatile RoutingSnapshot snapshot = RoutingSnapshot.EMPTY;
  private Set<String> rejected = Set.of();
  private volatile long contentSeen;
  private volatile long keepModelsUntilNanos = System.nanoTime();
  /** The last rebuild was not published: the reconciliation tries again even without a change. */
  private volatile boolean held;

  /** @param secret seals and checks every value; null for none (a single process) */
  protected StoredModelRegistry(String worker, ClusterSecret secret) {
    this.worker = worker;
    this.secret = secret;
  }

  /** Servable entries of every worker, keyed {@code model/version@worker}. */
  protected abstract Map<String, byte[]> servables();

  /** Model entries, keyed by model name. */
  protected abstract Map<String, byte[]> models();

  /** An operator's overrides (labels, pins) by model; never removed with the model, so they outlive restarts. */
  protected abstract Map<String, byte[]> overrides();

  @Override
  public RoutingSnapshot snapshot() {
    return snapshot;
  }

  /** A subscriber and the Vert.x context it subscribed on (null off Vert.x): its calls run there. */
  private record Listener(Runnable action, Context context) {
    void changed() {
      if (context == null) {
        action.run();
      } else {
        context.runOnContext(v -> action.run());
      }
    }
  }

  @Override
  public Subscription onChange(Runnable action) {
    Listener listener = new Listener(action, Vertx.currentContext());
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  @Override
  public Future<Void> publish(ServableRecord record) {
    ServableId id = record.id();
    return put(id, ServableEntry.newBuilder()
        .setModel(id.name()).setVersion(id.version()).setState(record.state().getNumber())
        .setErrorCode(record.errorCode().number()).setErrorMessage(record.errorMessage())
        .setSignatures(record.signatures()).setWorker(worker).putAllInvalidSignatures(record.invalidSignatures())
        .setMemoryBytes(record.memoryBytes()).build());
  }

  @Override
  public Future<Void> publishPageable(ServableId id, long memoryBytes, long freeBytes) {
    return put(id, ServableEntry.newBuilder().setModel(id.name()).setVersion(id.version())
        .setState(State.START_VALUE).setWorker(worker).setMemoryBytes(memoryBytes).setPageable(true)
        .setFreeBytes(freeBytes).build());
  }

  private Future<Void> put(ServableId id, ServableEntry servable) {
    String key = key(id, worker);
    byte[] entry = seal(SERVABLE_CONTEXT + key, servable);
    return write(() -> {
      ensureModel(id.name());
      own.put(key, entry);
      servables().put(key, entry);
    });
  }

  @Override
  public Future<Void> remove(ServableId id) {
    return write(() -> {
      own.remove(key(id, worker));
      servables().remove(key(id, worker));
    });
  }

  @Override
  public Future<Void> setLabels(String model, Map<String, Long> labels) {
    return write(() -> {
      ModelEntry entry = modelEntry(model);
      models().put(model, seal(MODEL_CONTEXT + model, entry.toBuilder().clearLabels().putAllLabels(labels).build()));
    });
  }

  @Override
  public Future<Void> updateOverrides(String model, UnaryOperator<ModelOverrides> change) {
    return write(() -> {
      ModelOverrides current = open(OVERRIDES_CONTEXT + model, overrides().get(model), ModelOverrides.getDefaultInstance());
      ModelOverrides updated = change.apply(current != null ? current : ModelOverrides.newBuilder().setModel(model).build());
      overrides().put(model, seal(OVERRIDES_CONTEXT + model, updated.toBuilder().setModel(model).build()));
    });
  }

  /** Forgets this worker's servables of the model; the model itself once no worker serves it. */
  @Override
  public Future<Void> removeModel(String model) {
    return write(() -> {
      own.keySet().removeIf(key -> key.startsWith(model + "/"));
      removeServables(key -> key.startsWith(model + "/") && key.endsWith("@" + worker));
      if (List.copyOf(servables().keySet()).stream().noneMatch(key -> key.startsWith(model + "/"))) {
        models().remove(model);
      }
    });
  }

  /**
   * Publishes this worker's servables again: after a partition heals, the other side of the
   * cluster had forgotten them when this worker seemed to leave.
   */
  protected void republishOwn() {
    own.forEach((key, entry) -> {
      ensureModel(key.substring(0, key.indexOf('/')));
      servables().put(key, entry);
    });
    rebuild();
  }

  /**
   * Whether a worker is part of the cluster as this member sees it; the snapshot routes only to
   * live workers, whatever the maps still hold (a departed worker's entries are removed later,
   * and that removal can fail while the cluster is reshaping).
   */
  protected boolean isLive(String worker) {
    return true;
  }

  /** The workers that have servable entries in the maps. */
  protected final Set<String> workersInMaps() {
    Set<String> workers = new java.util.HashSet<>();
    for (String key : List.copyOf(servables().keySet())) {
      workers.add(workerOf(key));
    }
    return workers;
  }

  /** Removes every servable entry of these workers. */
  protected final void removeServablesOf(Set<String> workers) {
    removeServables(key -> workers.contains(workerOf(key)));
    rebuild();
  }

  private static String workerOf(String key) {
    return key.substring(key.lastIndexOf('@') + 1);
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
    contentSeen = content();
    Set<String> refused = new TreeSet<>();
    Map<String, ModelEntry> entries = openAll(models(), MODEL_CONTEXT, ModelEntry.getDefaultInstance(),
        ModelEntry::getModel, refused);
    Map<String, ModelOverrides> overridden = openAll(overrides(), OVERRIDES_CONTEXT,
        ModelOverrides.getDefaultInstance(), ModelOverrides::getModel, refused);
    Map<String, Map<Long, List<ServableEntry>>> grouped = new HashMap<>();
    servables().forEach((key, bytes) -> {
      ServableEntry entry = open(SERVABLE_CONTEXT + key, bytes, ServableEntry.getDefaultInstance());
      if (entry == null || !key.equals(key(new ServableId(entry.getModel(), entry.getVersion()), entry.getWorker()))) {
        refused.add(SERVABLE_CONTEXT + key);
        return;
      }
      if (!isLive(entry.getWorker())) {
        return;
      }
      grouped.computeIfAbsent(entry.getModel(), m -> new TreeMap<>())
          .computeIfAbsent(entry.getVersion(), v -> new ArrayList<>()).add(entry);
    });
    if (!refused.equals(rejected)) {
      rejected = refused;
      if (!refused.isEmpty()) {
        LOG.warn("Ignoring registry entries that are not sealed with this cluster's secret, or do not parse: {}",
            refused);
      }
    }
    Map<String, ModelView> views = new HashMap<>();
    for (String name : entries.keySet()) {
      NavigableMap<Long, ServableRecord> versions = new TreeMap<>();
      grouped.getOrDefault(name, Map.of()).forEach((version, onWorkers) ->
          versions.put(version, merge(new ServableId(name, version), onWorkers)));
      ModelEntry entry = entries.get(name);
      views.put(name, new ModelView(name, versions, labels(entry, overridden.get(name)),
          overridden.getOrDefault(name, ModelOverrides.getDefaultInstance()).getTraffic()));
    }
    if (System.nanoTime() - keepModelsUntilNanos < 0 && !views.keySet().containsAll(snapshot.models().keySet())) {
      held = true; // maps being refilled (a partition healing): keep the models routable meanwhile
      return;
    }
    held = false;
    snapshot = new RoutingSnapshot(views, overridden);
    listeners.forEach(Listener::changed);
  }

  /**
   * For a while, publishes no snapshot that lacks a model the current one routes: while
   * Hazelcast merges the halves of a healed partition, a member's maps are emptied and refilled,
   * and a snapshot built in between would answer 404 for models that are being served.
   */
  protected final void keepModelsFor(long millis) {
    keepModelsUntilNanos = System.nanoTime() + millis * 1_000_000;
  }

  /**
   * Rebuilds only if the maps hold something the last snapshot did not see: a safety net for
   * changes that came without an event (Hazelcast fills a member's replicated maps anew when a
   * partition heals, and tells its listeners nothing).
   */
  protected final void rebuildIfChanged() {
    if (held || content() != contentSeen) {
      rebuild();
    }
  }

  /** A map's values that are sealed by this cluster, parse, and name the model they are stored under. */
  private <T extends Message> Map<String, T> openAll(Map<String, byte[]> stored, String context, T prototype,
                                                     java.util.function.Function<T, String> model, Set<String> refused) {
    Map<String, T> opened = new HashMap<>();
    stored.forEach((name, bytes) -> {
      T value = open(context + name, bytes, prototype);
      if (value == null || !model.apply(value).equals(name)) {
        refused.add(context + name);
      } else {
        opened.put(name, value);
      }
    });
    return opened;
  }

  /** The config's labels as an operator changed them. */
  private static Map<String, Long> labels(ModelEntry entry, ModelOverrides overrides) {
    if (overrides == null || overrides.getLabelsCount() == 0) {
      return entry.getLabelsMap();
    }
    Map<String, Long> labels = new HashMap<>(entry.getLabelsMap());
    overrides.getLabelsMap().forEach((label, version) -> {
      if (version == REMOVED_LABEL) {
        labels.remove(label);
      } else {
        labels.put(label, version);
      }
    });
    return labels;
  }

  /** A fingerprint of the maps' keys and values. */
  private long content() {
    long sum = 0;
    for (var entry : servables().entrySet()) {
      sum += 31L * entry.getKey().hashCode() + java.util.Arrays.hashCode(entry.getValue());
    }
    for (var entry : models().entrySet()) {
      sum += 17L * entry.getKey().hashCode() + java.util.Arrays.hashCode(entry.getValue());
    }
    for (var entry : overrides().entrySet()) {
      sum += 13L * entry.getKey().hashCode() + java.util.Arrays.hashCode(entry.getValue());
    }
    return sum;
  }

  /**
   * Makes a change and rebuilds the snapshot on the registry's own thread, in the order the
   * changes were asked for: a Hazelcast write takes locks and may wait on the network, and a
   * rebuild reads every map, neither of which belongs on an event loop. The future completes
   * on the caller's context once the change shows in this registry's snapshot.
   */
  protected final Future<Void> write(Runnable change) {
    Context caller = Vertx.currentContext();
    CompletableFuture<Void> done = CompletableFuture.runAsync(() -> {
      change.run();
      rebuild();
    }, WRITER);
    return caller == null ? Future.fromCompletionStage(done) : Future.fromCompletionStage(done, caller);
  }

  /**
   * One version across workers: AVAILABLE where any worker serves it, else the furthest state
   * seen; its footprint the largest any worker measured.
   */
  private static ServableRecord merge(ServableId id, List<ServableEntry> onWorkers) {
    List<String> serving = new ArrayList<>();
    Map<String, Long> pageableOn = new HashMap<>();
    ServableEntry best = onWorkers.get(0);
    long memoryBytes = 0;
    for (ServableEntry entry : onWorkers) {
      if (entry.getState() == State.AVAILABLE_VALUE) {
        serving.add(entry.getWorker());
      } else if (entry.getPageable() && entry.getState() == State.START_VALUE) {
        pageableOn.put(entry.getWorker(), entry.getFreeBytes());
      }
      memoryBytes = Math.max(memoryBytes, entry.getMemoryBytes());
      if (rank(entry.getState()) > rank(best.getState())) {
        best = entry;
      }
    }
    return new ServableRecord(id, State.forNumber(best.getState()), StatusCode.ofNumber(best.getErrorCode()),
        best.getErrorMessage(), best.getSignatures(), serving, best.getInvalidSignaturesMap(), memoryBytes, pageableOn);
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
      models().putIfAbsent(model, seal(MODEL_CONTEXT + model, ModelEntry.newBuilder().setModel(model).build()));
    }
  }

  /** The model's entry; a missing or forged one counts as new. */
  private ModelEntry modelEntry(String model) {
    ModelEntry entry = open(MODEL_CONTEXT + model, models().get(model), ModelEntry.getDefaultInstance());
    return entry != null ? entry : ModelEntry.newBuilder().setModel(model).build();
  }

  /** The number of entries the last snapshot left out (not sealed with the cluster's secret, or corrupt). */
  public int rejectedEntries() {
    return rejected.size();
  }

  private static String key(ServableId id, String worker) {
    return id.name() + "/" + id.version() + "@" + worker;
  }

  private byte[] seal(String context, Message value) {
    byte[] bytes = value.toByteArray();
    return secret == null ? bytes : secret.seal(context, bytes);
  }

  /** The value stored under a context, or null when it is missing, not sealed by this cluster, or corrupt. */
  @SuppressWarnings("unchecked")
  private <T extends Message> T open(String context, byte[] stored, T prototype) {
    byte[] bytes = stored == null || secret == null ? stored : secret.open(context, stored);
    if (bytes == null) {
      return null;
    }
    try {
      return (T) prototype.getParserForType().parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
  }
}
