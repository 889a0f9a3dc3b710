package io.infergate.worker.lifecycle;

import io.infergate.common.ServableId;
import io.infergate.common.metrics.MetricNames;
import io.infergate.common.registry.ModelRegistry;
import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.infergate.proto.serving.ModelConfig;
import io.infergate.proto.serving.ModelConfigList;
import io.infergate.proto.serving.ModelServerConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Memory-aware paging of a worker's models, above the {@link ModelManager}: pinned models are
 * always loaded; a pageable one is loaded on its first request and evicted, least recently used
 * first, when a load needs room under the worker's memory budget. A model with a request in
 * flight is never chosen, and eviction is the manager's unload, which refuses new requests and
 * waits for those running before it frees anything. Requests for a model that is loading wait on
 * its one load. The manager is handed the config of what should be resident; its lifecycle
 * (version policy, retries, warmup, AVAILABLE before traffic) is unchanged. The versions of every
 * pageable model that is not resident are advertised in the registry with the room this worker
 * has left, so that gateways know the model and where to have it loaded. A pinned model with a
 * replica count is kept loaded on that many workers of the cluster: each worker watches the
 * registry, loads it while fewer serve it, and unloads it when more do and it is not among the
 * first by worker id. All methods run on the manager's context.
 */
public final class PagedModels {

  private static final Logger LOG = LoggerFactory.getLogger(PagedModels.class);
  /** How long a load waits for a busy model to fall idle, when every model it could evict is serving. */
  private static final long ROOM_WAIT_NANOS = TimeUnit.SECONDS.toNanos(2);
  private static final long ROOM_POLL_MILLIS = 5;

  private final Vertx vertx;
  private final ModelManager<?> manager;
  private final ModelRegistry registry;
  private final ServableHost<?> host;
  private final long budgetBytes;
  private final ModelConfig.Paging defaultPaging;
  private final Counter loads;
  private final Counter evictions;
  private final Timer coldStarts;
  private final Map<String, ModelConfig> pinned = new LinkedHashMap<>();
  private final Map<String, ModelConfig> pageable = new LinkedHashMap<>();
  private final Set<String> resident = new LinkedHashSet<>();
  private final Map<String, Future<Void>> loading = new HashMap<>();
  /** Models being evicted: a request for one waits until it is out, then loads it again. */
  private final Map<String, Future<Void>> evicting = new HashMap<>();
  /** Pinned models kept on a number of workers (their replica count), also in {@link #pageable}. */
  private final Map<String, Integer> replicated = new LinkedHashMap<>();
  private final String workerId;
  /** What each pageable model held when it was last loaded: the room its next load needs. */
  private final Map<String, Long> measured = new HashMap<>();

  /** @param defaultPaging how models whose config does not say are kept: PINNED or PAGEABLE */
  /** @param workerId this worker's id in the registry (replicas are kept by the lowest ids) */
  public PagedModels(Vertx vertx, ModelManager<?> manager, ModelRegistry registry, ServableHost<?> host,
                     String workerId, long budgetBytes, ModelConfig.Paging defaultPaging, MeterRegistry meters) {
    this.vertx = vertx;
    this.workerId = workerId;
    this.manager = manager;
    this.registry = registry;
    this.host = host;
    this.budgetBytes = budgetBytes;
    this.defaultPaging = defaultPaging == ModelConfig.Paging.PAGEABLE ? defaultPaging : ModelConfig.Paging.PINNED;
    manager.advertiseWhenUnloaded(pageable::containsKey);
    registry.onChange(this::keepReplicas);
    this.loads = Counter.builder(MetricNames.PAGING_LOADS).description("Pageable models loaded on demand")
        .register(meters);
    this.evictions = Counter.builder(MetricNames.PAGING_EVICTIONS)
        .description("Pageable models unloaded to make room for another").register(meters);
    this.coldStarts = Timer.builder(MetricNames.PAGING_COLD_START)
        .description("From a request for a pageable model that was not loaded to the model serving")
        .serviceLevelObjectives(Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofSeconds(1),
            Duration.ofSeconds(5), Duration.ofSeconds(30))
        .register(meters);
  }

  /**
   * Takes a whole config: pinned models load now, pageable ones only on demand; resident
   * pageable models that the config still names stay.
   */
  public Future<Void> apply(ModelServerConfig config, boolean strictLabels) {
    Set<String> wasPageable = Set.copyOf(pageable.keySet());
    pinned.clear();
    pageable.clear();
    replicated.clear();
    for (ModelConfig model : config.getModelConfigList().getConfigList()) {
      if (paging(model) == ModelConfig.Paging.PINNED && model.getReplicas() > 0) {
        replicated.put(model.getName(), model.getReplicas());
      }
      (paging(model) == ModelConfig.Paging.PAGEABLE || replicated.containsKey(model.getName()) ? pageable : pinned)
          .put(model.getName(), model);
    }
    resident.retainAll(pageable.keySet());
    List<Future<Void>> gone = new ArrayList<>();
    wasPageable.stream().filter(model -> !pageable.containsKey(model) && !pinned.containsKey(model))
        .forEach(model -> gone.add(registry.removeModel(model)));
    return Future.join(gone).transform(v -> realise(strictLabels)).onSuccess(v -> keepReplicas());
  }

  /**
   * Loads a replicated model while fewer workers serve it than its count, and unloads it when
   * more do and this worker is not among the first of them by id: every worker decides alike
   * from the registry, so the count settles after a change.
   */
  private void keepReplicas() {
    replicated.forEach((model, replicas) -> {
      if (loading.containsKey(model) || evicting.containsKey(model)) {
        return;
      }
      List<String> serving = registry.snapshot().model(model).stream()
          .flatMap(view -> view.versions().values().stream()).flatMap(record -> record.workers().stream())
          .distinct().sorted().toList();
      if (!resident.contains(model) && serving.size() < replicas) {
        pageIn(model).onFailure(failure -> LOG.warn("Could not load replica of {}: {}", model, failure.getMessage()));
      } else if (resident.contains(model) && serving.size() > replicas
          && serving.indexOf(workerId) >= replicas) {
        LOG.info("Unloading {}: {} workers serve it, {} are enough", model, serving.size(), replicas);
        resident.remove(model);
        Future<Void> realised = realise(false);
        evicting.put(model, realised);
        realised.onComplete(done -> evicting.remove(model));
      }
    });
  }

  /** The config this worker was given for a model; empty when its config does not name it. */
  public Optional<ModelConfig> config(String model) {
    ModelConfig config = pinned.get(model);
    return config != null ? Optional.of(config) : Optional.ofNullable(pageable.get(model));
  }

  /** The models this worker may load on demand. */
  public Set<String> pageableModels() {
    return Set.copyOf(pageable.keySet());
  }

  /**
   * Makes a model serve here: at once if it is pinned or resident, after one load (shared by
   * every caller meanwhile) if it is pageable. NOT_FOUND for a model this worker does not have;
   * UNAVAILABLE when no room can be made because every other resident model is busy.
   */
  public Future<Void> pageIn(String model) {
    if (pinned.containsKey(model) || resident.contains(model) && !loading.containsKey(model)) {
      return Future.succeededFuture();
    }
    if (!pageable.containsKey(model)) {
      return Future.failedFuture(ServingException.notFound("This worker has no model " + model));
    }
    Future<Void> pending = loading.get(model);
    if (pending != null) {
      return pending;
    }
    Future<Void> leaving = evicting.get(model);
    if (leaving != null) {
      return leaving.transform(v -> pageIn(model));
    }
    long started = System.nanoTime();
    Future<Void> load = makeRoom(model, measured.getOrDefault(model, 0L), started + ROOM_WAIT_NANOS)
        .compose(v -> {
          resident.add(model);
          loads.increment();
          return realise(false);
        })
        .compose(v -> manager.serves(model) ? Future.<Void>succeededFuture()
            : Future.failedFuture(ServingException.unavailable("Model " + model + " did not load on this worker")))
        .onSuccess(v -> {
          measured.put(model, manager.heldBytes(model));
          coldStarts.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
          LOG.info("Paged in {} ({} MiB) in {} ms", model, manager.heldBytes(model) >> 20,
              (System.nanoTime() - started) / 1_000_000);
        })
        // A first load's size is known only once it has loaded: others may have to leave after it.
        .compose(v -> manager.heldBytes() > budgetBytes ? makeRoom(model, 0, 0) : Future.succeededFuture())
        .onFailure(failure -> resident.remove(model))
        .onComplete(done -> loading.remove(model));
    loading.put(model, load);
    return load;
  }

  /**
   * Evicts idle resident models, least recently used first, until {@code needed} more bytes fit
   * the budget; {@code keep} is never evicted. When every model it could evict is serving, waits
   * for one to fall idle until {@code giveUpNanos}, then fails UNAVAILABLE: memory is not
   * overcommitted for a model whose size is known.
   */
  private Future<Void> makeRoom(String keep, long needed, long giveUpNanos) {
    long used = manager.heldBytes();
    if (used + needed <= budgetBytes) {
      return Future.succeededFuture();
    }
    List<String> candidates = new ArrayList<>(resident);
    candidates.removeIf(model -> model.equals(keep) || replicated.containsKey(model) || loading.containsKey(model)
        || host.requestsInFlight(model) > 0);
    candidates.sort(Comparator.comparingLong(host::lastUsedNanos));
    List<String> evicted = new ArrayList<>();
    for (String model : candidates) {
      if (used + needed <= budgetBytes) {
        break;
      }
      long held = manager.heldBytes(model);
      measured.put(model, held);
      resident.remove(model);
      evicted.add(model);
      used -= held;
    }
    if (used + needed > budgetBytes && evicted.isEmpty() && needed > 0) {
      if (System.nanoTime() - giveUpNanos < 0) {
        return vertx.timer(ROOM_POLL_MILLIS).compose(t -> makeRoom(keep, needed, giveUpNanos));
      }
      return Future.failedFuture(new ServingException(StatusCode.UNAVAILABLE, "No room on this worker for model "
          + keep + ": the models it holds are busy (budget " + (budgetBytes >> 20) + " MiB)"));
    }
    evictions.increment(evicted.size());
    if (!evicted.isEmpty()) {
      LOG.info("Evicting {} to make room for {}", evicted, keep);
    }
    Future<Void> realised = realise(false);
    evicted.forEach(model -> evicting.put(model, realised));
    return realised.onComplete(done -> evicted.forEach(evicting::remove));
  }

  /** Hands the manager what should be resident, then advertises the pageable models that are not. */
  private Future<Void> realise(boolean strictLabels) {
    return manager.apply(resident(), strictLabels).compose(v -> advertise());
  }

  private Future<Void> advertise() {
    long free = Math.max(0, budgetBytes - manager.heldBytes());
    List<Future<Void>> published = new ArrayList<>();
    for (ModelConfig model : pageable.values()) {
      if (!resident.contains(model.getName())) {
        published.add(manager.aspiredVersions(model).compose(versions -> Future.join(versions.stream()
            .map(version -> registry.publishPageable(new ServableId(model.getName(), version),
                measured.getOrDefault(model.getName(), 0L), free))
            .toList()).<Void>mapEmpty()));
      }
    }
    return Future.join(published).mapEmpty();
  }

  /** The config the manager realises: the pinned models and the resident pageable ones. */
  private ModelServerConfig resident() {
    ModelConfigList.Builder list = ModelConfigList.newBuilder().addAllConfig(pinned.values());
    resident.forEach(model -> list.addConfig(pageable.get(model)));
    return ModelServerConfig.newBuilder().setModelConfigList(list).build();
  }

  private ModelConfig.Paging paging(ModelConfig model) {
    return model.getPaging() == ModelConfig.Paging.PAGING_DEFAULT ? defaultPaging : model.getPaging();
  }
}
