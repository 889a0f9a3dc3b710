package io.infergate.worker.lifecycle;

import io.infergate.common.ServableId;
import io.infergate.common.config.ConfigException;
import io.infergate.common.registry.ModelRegistry;
import io.infergate.common.registry.ServableRecord;
import io.infergate.common.status.ServingException;
import io.infergate.proto.serving.ModelConfig;
import io.infergate.proto.serving.ModelServerConfig;
import io.infergate.proto.serving.ModelVersionStatus.State;
import io.infergate.worker.lifecycle.AvailabilityPreservingPolicy.Actions;
import io.infergate.worker.lifecycle.AvailabilityPreservingPolicy.Held;
import io.infergate.worker.lifecycle.AvailabilityPreservingPolicy.Phase;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.function.Predicate;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TF Serving's manager for one worker. It realises a {@link ModelServerConfig}: for each model
 * the {@link FileSystemSource} reports the aspired versions (an operator's pins, kept in the
 * registry, applied on top), the {@link AvailabilityPreservingPolicy} decides what to load,
 * unload and forget, the {@link Loader} loads on the load executor (with TF Serving's retries),
 * and the {@link ServableHost} puts each version in front of traffic before it is published
 * AVAILABLE. Every state change goes to the registry. All methods run on one Vert.x context;
 * blocking work goes to the load executor.
 *
 * @param <S> what the loader loads
 */
public final class ModelManager<S extends LoadedServable> {

  private static final Logger LOG = LoggerFactory.getLogger(ModelManager.class);

  private final Vertx vertx;
  private final ModelRegistry registry;
  private final FileSystemSource source;
  private final Loader<S> loader;
  private final ServableHost<S> host;
  private final WorkerExecutor loadExecutor;
  private final ManagerOptions options;
  private final LifecycleMetrics metrics;
  private final Map<String, ManagedModel> models = new HashMap<>();
  private final ModelRegistry.Subscription pinWatch;
  /** Models that stay loadable here when they leave the config (pageable): advertised, not forgotten. */
  private Predicate<String> pageable = model -> false;
  /** The models of the config last applied, for readiness probes on other threads. */
  private volatile Set<String> modelNames = Set.of();

  /** Call on the context the manager is to run on: the registry's changes come back to it. */
  public ModelManager(Vertx vertx, ModelRegistry registry, Loader<S> loader, ServableHost<S> host,
                      WorkerExecutor loadExecutor, ManagerOptions options, MeterRegistry meters) {
    this.vertx = vertx;
    this.registry = registry;
    this.source = new FileSystemSource(loadExecutor);
    this.loader = loader;
    this.host = host;
    this.loadExecutor = loadExecutor;
    this.options = options;
    this.metrics = new LifecycleMetrics(meters, options.memoryBudgetBytes());
    this.pinWatch = registry.onChange(this::pinsMayHaveChanged);
  }

  /**
   * Realises exactly {@code config}: models it lacks are unloaded, new ones loaded, changed
   * policies, base paths and labels applied. Completes once every aspired version has loaded or
   * failed. With {@code strictLabels} a label on a version that is not available fails the call
   * (at start and for explicit reloads); otherwise it is logged and the model keeps its old labels.
   */
  public Future<Void> apply(ModelServerConfig config, boolean strictLabels) {
    Map<String, ModelConfig> wanted = new TreeMap<>();
    config.getModelConfigList().getConfigList().forEach(model -> wanted.put(model.getName(), model));
    modelNames = Set.copyOf(wanted.keySet());
    List<Future<Void>> work = new ArrayList<>();
    for (ManagedModel model : List.copyOf(models.values())) {
      if (!wanted.containsKey(model.config.getName())) {
        work.add(removeModel(model));
      }
    }
    for (ModelConfig modelConfig : wanted.values()) {
      ManagedModel model = models.computeIfAbsent(modelConfig.getName(), name -> new ManagedModel());
      model.config = modelConfig;
      work.add(reconcile(model));
    }
    return Future.join(work).transform(done -> {
      List<Future<Void>> labels = new ArrayList<>();
      wanted.keySet().forEach(name -> labels.add(applyLabels(models.get(name), strictLabels)));
      return Future.all(labels).mapEmpty();
    });
  }

  /** The versions of a model that its policy and an operator's pins aspire to, as its folder holds them now. */
  public Future<Set<Long>> aspiredVersions(ModelConfig config) {
    return source.look(config)
        .map(versions -> Set.copyOf(versions.aspired(registry.snapshot().pins(config.getName())).keySet()));
  }

  /**
   * A model leaving the config that {@code pageable} accepts is advertised as loadable once its
   * versions are unloaded, instead of removed from the registry: gateways never see it missing.
   */
  public void advertiseWhenUnloaded(Predicate<String> pageable) {
    this.pageable = pageable;
  }

  /** What the loaded versions hold in memory together, as measured at their loads. */
  public long heldBytes() {
    return metrics.heldBytes();
  }

  /** What one model's loaded versions hold. */
  public long heldBytes(String model) {
    return metrics.heldBytes(model);
  }

  /** Whether some version of the model is loaded and taking requests here. */
  public boolean serves(String model) {
    ManagedModel managed = models.get(model);
    return managed != null && managed.versions.values().stream().anyMatch(v -> v.phase == Phase.AVAILABLE);
  }

  /** The names of the models the manager was last told to serve. */
  public Set<String> modelNames() {
    return modelNames;
  }

  /** Looks at every model's folder again: new versions load, versions that left the policy unload. */
  public Future<Void> pollFileSystem() {
    List<Future<Void>> work = new ArrayList<>();
    models.values().forEach(model -> work.add(reconcile(model)));
    return Future.join(work).mapEmpty();
  }

  /** Looks at a model again when an operator pinned one of its versions (in the registry, from any gateway). */
  private void pinsMayHaveChanged() {
    for (ManagedModel model : List.copyOf(models.values())) {
      if (!registry.snapshot().pins(model.config.getName()).equals(model.pins)) {
        reconcile(model);
      }
    }
  }

  /** Unloads everything, freeing native memory. */
  public Future<Void> shutdown() {
    pinWatch.close();
    List<Future<Void>> work = new ArrayList<>();
    for (ManagedModel model : List.copyOf(models.values())) {
      work.add(removeModel(model));
    }
    return Future.join(work).mapEmpty();
  }

  /**
   * Brings a model's versions to what its source and pins aspire to, one policy step after
   * another, until the policy has nothing more to do. Calls while one runs are folded into one
   * more round after it.
   */
  private Future<Void> reconcile(ManagedModel model) {
    if (model.reconciling != null) {
      model.again = true;
      return model.reconciling;
    }
    ModelConfig config = model.config;
    Future<Void> run = source.look(config).compose(versions -> {
      model.pins = registry.snapshot().pins(config.getName());
      NavigableMap<Long, Path> aspired = versions.aspired(model.pins);
      if (aspired.isEmpty() && model.versions.isEmpty()) {
        LOG.warn("No versions of model {} found under {} that its version policy aspires to",
            config.getName(), config.getBasePath());
      }
      return step(model, aspired);
    });
    model.reconciling = run;
    return run.onComplete(done -> {
      model.reconciling = null;
      if (model.again && !model.removed) {
        model.again = false;
        reconcile(model);
      }
    });
  }

  /** Carries out the policy's actions, then asks it again: a load that finished may allow an unload. */
  private Future<Void> step(ManagedModel model, NavigableMap<Long, Path> aspired) {
    if (model.removed) {
      return Future.succeededFuture();
    }
    Actions actions = AvailabilityPreservingPolicy.decide(aspired, model.held());
    if (actions.isEmpty()) {
      return Future.succeededFuture();
    }
    List<Future<Void>> work = new ArrayList<>();
    actions.forget().forEach(version -> work.add(forget(model, model.versions.get(version))));
    return Future.join(work).transform(forgotten -> {
      List<Future<Void>> changes = new ArrayList<>();
      for (long version : actions.load()) {
        ManagedVersion managed = new ManagedVersion(new ServableId(model.config.getName(), version),
            aspired.get(version));
        model.versions.put(version, managed);
        changes.add(load(model, managed));
      }
      actions.unload().forEach(version -> changes.add(unload(model, model.versions.get(version))));
      return Future.join(changes);
    }).transform(done -> step(model, aspired));
  }

  private Future<Void> load(ManagedModel model, ManagedVersion version) {
    long started = System.nanoTime();
    return publish(version, ServableRecord.of(version.id, State.LOADING))
        .compose(v -> attempt(version, 0))
        .compose(loaded -> {
          version.servable = loaded;
          if (model.removed) {
            return Future.failedFuture(ServingException.unavailable("Model " + model.config.getName() + " was removed"));
          }
          return host.serve(loaded).onSuccess(v -> version.serving = true);
        })
        .compose(v -> {
          LOG.info("Loaded servable {} from {} in {} ms, holding {} MiB; {}", version.id, version.directory,
              (System.nanoTime() - started) / 1_000_000, version.servable.memoryBytes() >> 20,
              version.servable.describe());
          metrics.loaded(version.id, System.nanoTime() - started, true);
          metrics.holds(version.id, version.servable.memoryBytes());
          if (metrics.heldBytes() > options.memoryBudgetBytes()) {
            LOG.warn("The loaded versions hold {} MiB, more than the worker's memory budget of {} MiB",
                metrics.heldBytes() >> 20, options.memoryBudgetBytes() >> 20);
          }
          return publish(version, ServableRecord.available(version.id, version.servable.signatures(),
              version.servable.invalidSignatures(), version.servable.memoryBytes()));
        })
        .recover(failure -> {
          ServingException status = ServingException.of(failure);
          LOG.error("Failed to load servable {} from {}: {}", version.id, version.directory, status.getMessage());
          metrics.loaded(version.id, System.nanoTime() - started, false);
          // Whatever got as far as loading is freed, whichever step failed after it.
          return release(version).transform(released -> {
            version.phase = Phase.FAILED;
            if (model.removed) {
              return forget(model, version).transform(v -> Future.failedFuture(status));
            }
            return publish(version, ServableRecord.failed(version.id, status.code(), status.getMessage()))
                .transform(v -> Future.failedFuture(status));
          });
        });
  }

  /** One load attempt and, after a pause, the retries TF Serving's flags allow. */
  private Future<S> attempt(ManagedVersion version, int retry) {
    return loadExecutor.<S>executeBlocking(() -> loader.load(version.id, version.directory), false)
        .recover(failure -> {
          if (retry >= options.maxLoadRetries()) {
            return Future.failedFuture(failure);
          }
          LOG.warn("Loading {} failed (attempt {} of {}), retrying in {} ms: {}", version.id, retry + 1,
              options.maxLoadRetries() + 1, options.loadRetryIntervalMillis(), failure.getMessage());
          return vertx.timer(Math.max(1, options.loadRetryIntervalMillis())).compose(t -> attempt(version, retry + 1));
        });
  }

  /**
   * Stops new requests, lets those in flight finish, then frees the model. A version whose
   * freeing failed is out of service all the same, so it is forgotten too: left UNLOADING, it
   * would stay in the registry and in the way of the model's next changes.
   */
  private Future<Void> unload(ManagedModel model, ManagedVersion version) {
    return publish(version, ServableRecord.of(version.id, State.UNLOADING))
        .compose(v -> release(version))
        .transform(released -> {
          if (released.succeeded()) {
            LOG.info("Unloaded servable {}", version.id);
          } else {
            LOG.error("Unloading servable {} failed; forgetting it anyway (its memory may not be freed): {}",
                version.id, released.cause().toString());
          }
          return forget(model, version);
        });
  }

  /** Takes a version out of service if it serves, and frees what it loaded, if anything. */
  private Future<Void> release(ManagedVersion version) {
    Future<Void> stopped = version.serving ? host.stopServing(version.id) : Future.succeededFuture();
    version.serving = false;
    S servable = version.servable;
    version.servable = null;
    return servable == null ? stopped : stopped.transform(v -> loadExecutor.executeBlocking(() -> {
      servable.close();
      return null;
    }, false));
  }

  private Future<Void> removeModel(ManagedModel model) {
    model.removed = true;
    models.remove(model.config.getName());
    List<Future<Void>> unloads = new ArrayList<>();
    for (ManagedVersion version : List.copyOf(model.versions.values())) {
      if (version.phase == Phase.AVAILABLE) {
        unloads.add(unload(model, version));
      } else if (version.phase == Phase.FAILED) {
        unloads.add(forget(model, version));
      }
    }
    return Future.join(unloads).transform(v -> pageable.test(model.config.getName()) ? Future.succeededFuture()
        : registry.removeModel(model.config.getName()));
  }

  private Future<Void> forget(ManagedModel model, ManagedVersion version) {
    model.versions.remove(version.id.version());
    long held = metrics.heldBytes(version.id.name());
    metrics.forget(version.id);
    if (model.removed && version.phase != Phase.FAILED && pageable.test(version.id.name())) {
      return registry.publishPageable(version.id, held,
          Math.max(0, options.memoryBudgetBytes() - metrics.heldBytes()));
    }
    return registry.remove(version.id);
  }

  private Future<Void> publish(ManagedVersion version, ServableRecord record) {
    version.phase = switch (record.state()) {
      case LOADING -> Phase.LOADING;
      case AVAILABLE -> Phase.AVAILABLE;
      case UNLOADING -> Phase.UNLOADING;
      default -> Phase.FAILED;
    };
    metrics.state(version.id, record.state());
    return registry.publish(record);
  }

  private Future<Void> applyLabels(ManagedModel model, boolean strict) {
    if (model == null || model.removed) {
      return Future.succeededFuture();
    }
    Map<String, Long> labels = model.config.getVersionLabelsMap();
    for (Map.Entry<String, Long> label : labels.entrySet()) {
      ManagedVersion target = model.versions.get(label.getValue());
      boolean available = target != null && target.phase == Phase.AVAILABLE;
      if (!available && !options.allowLabelsForUnavailableModels()) {
        ConfigException error = new ConfigException("Label '" + label.getKey() + "' of model "
            + model.config.getName() + " points at version " + label.getValue() + ", which is not available; "
            + "only available versions can be labelled unless --allow_version_labels_for_unavailable_models is set");
        if (strict) {
          return Future.failedFuture(error);
        }
        LOG.error("{}; keeping the model's previous labels", error.getMessage());
        return Future.succeededFuture();
      }
    }
    return registry.setLabels(model.config.getName(), labels);
  }

  /** The versions of one model that this manager holds. */
  private final class ManagedModel {
    ModelConfig config;
    final Map<Long, ManagedVersion> versions = new TreeMap<>();
    Future<Void> reconciling;
    boolean again;
    boolean removed;
    /** The operator's pins the last look applied. */
    Map<Long, Boolean> pins = Map.of();

    Map<Long, Held> held() {
      Map<Long, Held> held = new TreeMap<>();
      versions.forEach((number, version) -> held.put(number, new Held(version.directory, version.phase)));
      return held;
    }
  }

  /** One version: where it lives, its phase, and once loaded its servable. */
  private final class ManagedVersion {
    final ServableId id;
    final Path directory;
    Phase phase = Phase.LOADING;
    S servable;
    boolean serving;

    ManagedVersion(ServableId id, Path directory) {
      this.id = id;
      this.directory = directory;
    }
  }
}
