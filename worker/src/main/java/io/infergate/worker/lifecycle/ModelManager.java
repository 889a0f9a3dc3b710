package io.infergate.worker.lifecycle;

import io.infergate.common.ServableId;
import io.infergate.common.config.ConfigException;
import io.infergate.common.config.TextProtoFiles;
import io.infergate.common.registry.ModelRegistry;
import io.infergate.common.registry.ServableRecord;
import io.infergate.common.status.ServingException;
import io.infergate.proto.serving.BatchingParameters;
import io.infergate.proto.serving.ModelConfig;
import io.infergate.proto.serving.ModelServerConfig;
import io.infergate.proto.serving.ModelVersionStatus.State;
import io.infergate.worker.runtime.SavedModelServable;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TF Serving's manager for one worker. It realises a {@link ModelServerConfig}: for each model
 * it compares the versions on disk, filtered by the version policy (the aspired versions),
 * with those it holds, loads and warms up new ones on the load executor, and unloads versions
 * that left the policy only once an aspired version is AVAILABLE (availability-preserving), so
 * a corrupt new version never takes down the one that serves. Every state change goes to the
 * registry. All methods run on one Vert.x context; blocking work goes to the load executor.
 */
public final class ModelManager {

  private static final Logger LOG = LoggerFactory.getLogger(ModelManager.class);
  static final String BATCHING_PARAMS_FILE = "batching_params.pbtxt";

  private final Vertx vertx;
  private final ModelRegistry registry;
  private final ServableHost host;
  private final WorkerExecutor loadExecutor;
  private final LoaderOptions options;
  private final LifecycleMetrics metrics;
  private final Map<String, ManagedModel> models = new HashMap<>();

  public ModelManager(Vertx vertx, ModelRegistry registry, ServableHost host, WorkerExecutor loadExecutor,
                      LoaderOptions options, MeterRegistry meters) {
    this.vertx = vertx;
    this.registry = registry;
    this.host = host;
    this.loadExecutor = loadExecutor;
    this.options = options;
    this.metrics = new LifecycleMetrics(meters);
  }

  /**
   * Realises exactly {@code config}: models it lacks are unloaded, new ones loaded, changed
   * policies and labels applied. Completes once every aspired version has loaded or failed.
   * With {@code strictLabels} a label on a version that is not available fails the call (at
   * start and for explicit reloads); otherwise it is logged and the model keeps its old labels.
   */
  public Future<Void> apply(ModelServerConfig config, boolean strictLabels) {
    Map<String, ModelConfig> wanted = new TreeMap<>();
    config.getModelConfigList().getConfigList().forEach(model -> wanted.put(model.getName(), model));
    List<Future<Void>> work = new ArrayList<>();
    for (ManagedModel model : List.copyOf(models.values())) {
      if (!wanted.containsKey(model.config.getName())) {
        work.add(removeModel(model));
      }
    }
    for (ModelConfig modelConfig : wanted.values()) {
      ManagedModel model = models.get(modelConfig.getName());
      if (model == null) {
        model = new ManagedModel(modelConfig);
        models.put(modelConfig.getName(), model);
        ManagedModel added = model;
        work.add(registry.setLabels(modelConfig.getName(), Map.of()).compose(v -> reconcile(added)));
      } else {
        model.config = modelConfig;
        work.add(reconcile(model));
      }
    }
    return Future.join(work).transform(done -> {
      List<Future<Void>> labels = new ArrayList<>();
      wanted.keySet().forEach(name -> labels.add(applyLabels(models.get(name), strictLabels)));
      return Future.all(labels).mapEmpty();
    });
  }

  /** Looks at every model's folder again: new versions load, versions that left the policy unload. */
  public Future<Void> pollFileSystem() {
    List<Future<Void>> work = new ArrayList<>();
    models.values().forEach(model -> work.add(reconcile(model)));
    return Future.join(work).mapEmpty();
  }

  /**
   * An operator's order for one version of a model this worker serves: load it (even if the
   * version policy does not aspire to it) or unload it (even if it does). Unknown models are
   * someone else's and are ignored.
   */
  public Future<Void> command(String modelName, long version, boolean load) {
    ManagedModel model = models.get(modelName);
    if (model == null) {
      return Future.succeededFuture();
    }
    if (load) {
      model.excluded.remove(version);
      model.pinned.add(version);
    } else {
      model.pinned.remove(version);
      model.excluded.add(version);
    }
    return reconcile(model);
  }

  /** Unloads everything, freeing native memory. */
  public Future<Void> shutdown() {
    List<Future<Void>> work = new ArrayList<>();
    for (ManagedModel model : List.copyOf(models.values())) {
      work.add(removeModel(model));
    }
    return Future.join(work).mapEmpty();
  }

  private Future<Void> reconcile(ManagedModel model) {
    if (model.reconciling != null) {
      model.again = true;
      return model.reconciling;
    }
    ModelConfig config = model.config;
    Path basePath = Path.of(config.getBasePath());
    Future<Void> run = loadExecutor.<NavigableMap<Long, Path>>executeBlocking(() ->
            Files.isDirectory(basePath) ? VersionDirectories.list(basePath) : new TreeMap<>(), false)
        .compose(onDisk -> {
          NavigableSet<Long> aspired = new java.util.TreeSet<>(
              VersionPolicy.aspired(config.getModelVersionPolicy(), onDisk.keySet()));
          model.pinned.stream().filter(onDisk::containsKey).forEach(aspired::add);
          aspired.removeAll(model.excluded);
          List<Future<Void>> loads = new ArrayList<>();
          for (long version : aspired) {
            if (!model.versions.containsKey(version) && !model.removed) {
              ManagedVersion managed = new ManagedVersion(new ServableId(config.getName(), version), onDisk.get(version));
              model.versions.put(version, managed);
              loads.add(load(model, managed));
            }
          }
          if (aspired.isEmpty() && model.versions.isEmpty()) {
            LOG.warn("No versions of model {} found under {} that its version policy aspires to",
                config.getName(), basePath);
          }
          return Future.join(loads).transform(loaded -> retireUnaspired(model, aspired));
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

  /**
   * Unloads versions that left the policy, but only once an aspired version serves (or none is
   * aspired at all); forgets failed versions that left the policy, so they are tried again if
   * they come back.
   */
  private Future<Void> retireUnaspired(ManagedModel model, Set<Long> aspired) {
    boolean replacementServes = aspired.stream()
        .map(model.versions::get).anyMatch(v -> v != null && v.state == State.AVAILABLE);
    List<Future<Void>> unloads = new ArrayList<>();
    for (ManagedVersion version : List.copyOf(model.versions.values())) {
      long number = version.id.version();
      if (aspired.contains(number)) {
        continue;
      }
      if (version.failed) {
        forget(model, version);
      } else if (version.state == State.AVAILABLE && (replacementServes || aspired.isEmpty())) {
        unloads.add(unload(model, version));
      }
    }
    return Future.join(unloads).mapEmpty();
  }

  private Future<Void> load(ManagedModel model, ManagedVersion version) {
    long started = System.nanoTime();
    return publish(version, ServableRecord.of(version.id, State.LOADING))
        .compose(v -> attempt(version, 0))
        .compose(loaded -> {
          if (model.removed) {
            loaded.servable.close();
            return Future.failedFuture(ServingException.unavailable("Model " + model.config.getName() + " was removed"));
          }
          version.servable = loaded.servable;
          return host.serve(loaded.servable, loaded.batching).map(loaded);
        })
        .compose(loaded -> {
          LOG.info("Loaded servable {} from {} in {} ms; warmed up with {} requests; runs on {}", version.id,
              version.directory, (System.nanoTime() - started) / 1_000_000, loaded.warmup.requests(),
              loaded.warmup.devices().isEmpty() ? "(unknown: no warmup request ran)" : loaded.warmup.devices());
          metrics.loaded(version.id, System.nanoTime() - started, true);
          return publish(version, ServableRecord.available(version.id, loaded.servable.signatures()));
        })
        .recover(failure -> {
          ServingException status = ServingException.of(failure);
          LOG.error("Failed to load servable {} from {}: {}", version.id, version.directory, status.getMessage());
          metrics.loaded(version.id, System.nanoTime() - started, false);
          version.failed = true;
          if (model.removed) {
            forget(model, version);
            return Future.failedFuture(status);
          }
          return publish(version, ServableRecord.failed(version.id, status.code(), status.getMessage()))
              .compose(v -> Future.failedFuture(status));
        });
  }

  /** One load attempt and, after a pause, the retries TF Serving's flags allow. */
  private Future<Loaded> attempt(ManagedVersion version, int retry) {
    return loadExecutor.<Loaded>executeBlocking(() -> loadAndWarm(version), false)
        .recover(failure -> {
          if (retry >= options.maxLoadRetries()) {
            return Future.failedFuture(failure);
          }
          LOG.warn("Loading {} failed (attempt {} of {}), retrying in {} ms: {}", version.id, retry + 1,
              options.maxLoadRetries() + 1, options.loadRetryIntervalMillis(), failure.getMessage());
          return vertx.timer(Math.max(1, options.loadRetryIntervalMillis())).compose(t -> attempt(version, retry + 1));
        });
  }

  private record Loaded(SavedModelServable servable, BatchingParameters batching, Warmup.Result warmup) {}

  /** Blocking: loads the SavedModel, reads its batching parameters, warms it up. */
  private Loaded loadAndWarm(ManagedVersion version) throws Exception {
    SavedModelServable servable = SavedModelServable.load(version.id, version.directory, options.session());
    try {
      BatchingParameters batching = null;
      Path params = version.directory.resolve(BATCHING_PARAMS_FILE);
      if (options.perModelBatching() && Files.isRegularFile(params)) {
        batching = TextProtoFiles.read(params, BatchingParameters.getDefaultInstance());
      }
      Warmup.Result warmup = options.warmup() ? Warmup.run(servable, version.directory, options.warmupIterations())
          : new Warmup.Result(0, Set.of());
      return new Loaded(servable, batching, warmup);
    } catch (Exception | Error e) {
      servable.close();
      if (e instanceof ConfigException || e instanceof ServingException) {
        throw e;
      }
      throw new ServingException(io.infergate.common.status.StatusCode.FAILED_PRECONDITION,
          "Warmup of " + version.id + " failed: " + e.getMessage());
    }
  }

  /** Stops new requests, lets those in flight finish, then frees the model. */
  private Future<Void> unload(ManagedModel model, ManagedVersion version) {
    return publish(version, ServableRecord.of(version.id, State.UNLOADING))
        .compose(v -> host.stopServing(version.id))
        .compose(v -> loadExecutor.executeBlocking(() -> {
          version.servable.close();
          return null;
        }, false))
        .compose(v -> {
          LOG.info("Unloaded servable {}", version.id);
          return forget(model, version);
        });
  }

  private Future<Void> removeModel(ManagedModel model) {
    model.removed = true;
    models.remove(model.config.getName());
    List<Future<Void>> unloads = new ArrayList<>();
    for (ManagedVersion version : List.copyOf(model.versions.values())) {
      if (version.state == State.AVAILABLE) {
        unloads.add(unload(model, version));
      } else if (version.failed) {
        forget(model, version);
      }
    }
    return Future.join(unloads).compose(v -> registry.removeModel(model.config.getName()),
        failure -> registry.removeModel(model.config.getName()));
  }

  private Future<Void> forget(ManagedModel model, ManagedVersion version) {
    model.versions.remove(version.id.version());
    metrics.forget(version.id);
    return registry.remove(version.id);
  }

  private Future<Void> publish(ManagedVersion version, ServableRecord record) {
    version.state = record.state();
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
      boolean available = target != null && target.state == State.AVAILABLE;
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
  private static final class ManagedModel {
    ModelConfig config;
    final Map<Long, ManagedVersion> versions = new TreeMap<>();
    Future<Void> reconciling;
    boolean again;
    boolean removed;
    final Set<Long> pinned = new java.util.HashSet<>();
    final Set<Long> excluded = new java.util.HashSet<>();

    ManagedModel(ModelConfig config) {
      this.config = config;
    }
  }

  /** One version: where it lives, its state, and once loaded its servable. */
  private static final class ManagedVersion {
    final ServableId id;
    final Path directory;
    State state = State.START;
    SavedModelServable servable;
    boolean failed;

    ManagedVersion(ServableId id, Path directory) {
      this.id = id;
      this.directory = directory;
    }
  }
}
