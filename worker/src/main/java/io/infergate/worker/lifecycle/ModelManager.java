package io.infergate.worker.lifecycle;

import io.infergate.common.ServableId;
import io.infergate.common.config.ConfigException;
import io.infergate.common.registry.ModelRegistry;
import io.infergate.common.registry.ServableRecord;
import io.infergate.common.status.ServingException;
import io.infergate.proto.serving.ModelConfig;
import io.infergate.proto.serving.ModelServerConfig;
import io.infergate.proto.serving.ModelVersionStatus.State;
import io.infergate.worker.runtime.SavedModelServable;
import io.infergate.worker.runtime.SessionOptions;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Realises a {@link ModelServerConfig}: finds each model's versions, loads those its version
 * policy aspires to on the load executor, hands them to the {@link ServableHost}, and keeps the
 * registry's states and labels current.
 */
public final class ModelManager {

  private static final Logger LOG = LoggerFactory.getLogger(ModelManager.class);

  private final ModelRegistry registry;
  private final ServableHost host;
  private final WorkerExecutor loadExecutor;
  private final SessionOptions sessionOptions;
  private final boolean allowLabelsForUnavailableModels;
  private final Map<ServableId, SavedModelServable> loaded = new ConcurrentHashMap<>();

  public ModelManager(ModelRegistry registry, ServableHost host, WorkerExecutor loadExecutor,
                      SessionOptions sessionOptions, boolean allowLabelsForUnavailableModels) {
    this.registry = registry;
    this.host = host;
    this.loadExecutor = loadExecutor;
    this.sessionOptions = sessionOptions;
    this.allowLabelsForUnavailableModels = allowLabelsForUnavailableModels;
  }

  /** Loads every model of the config; completes when each aspired version has loaded or failed. */
  public Future<Void> apply(ModelServerConfig config) {
    List<Future<Void>> models = new ArrayList<>();
    for (ModelConfig model : config.getModelConfigList().getConfigList()) {
      models.add(registry.setLabels(model.getName(), Map.of()).compose(v -> loadModel(model)));
    }
    return Future.join(models).mapEmpty();
  }

  /** Stops serving and unloads everything, freeing native memory. */
  public Future<Void> shutdown() {
    List<Future<Void>> unloads = new ArrayList<>();
    for (ServableId id : List.copyOf(loaded.keySet())) {
      unloads.add(unload(id));
    }
    return Future.join(unloads).mapEmpty();
  }

  private Future<Void> loadModel(ModelConfig model) {
    Path basePath = Path.of(model.getBasePath());
    return loadExecutor.<NavigableMap<Long, Path>>executeBlocking(() -> VersionDirectories.list(basePath))
        .compose(onDisk -> {
          var aspired = VersionPolicy.aspired(model.getModelVersionPolicy(), onDisk.keySet());
          if (aspired.isEmpty()) {
            LOG.warn("No versions of model {} found under {} that its version policy aspires to",
                model.getName(), basePath);
          }
          List<Future<Void>> loads = new ArrayList<>();
          for (long version : aspired) {
            loads.add(load(new ServableId(model.getName(), version), onDisk.get(version)));
          }
          return Future.join(loads);
        })
        .compose(v -> applyLabels(model), failure -> applyLabels(model));
  }

  private Future<Void> load(ServableId id, Path directory) {
    long started = System.nanoTime();
    return registry.publish(ServableRecord.of(id, State.LOADING))
        .compose(v -> loadExecutor.executeBlocking(
            () -> SavedModelServable.load(id, directory, sessionOptions), false))
        .compose(servable -> {
          loaded.put(id, servable);
          return host.serve(servable).map(servable);
        })
        .compose(servable -> {
          LOG.info("Loaded servable {} from {} in {} ms", id, directory,
              (System.nanoTime() - started) / 1_000_000);
          return registry.publish(ServableRecord.available(id, servable.signatures()));
        })
        .recover(failure -> {
          ServingException status = ServingException.of(failure);
          LOG.error("Failed to load servable {} from {}: {}", id, directory, status.getMessage());
          return registry.publish(ServableRecord.failed(id, status.code(), status.getMessage()))
              .compose(v -> Future.failedFuture(status));
        });
  }

  private Future<Void> unload(ServableId id) {
    return registry.publish(ServableRecord.of(id, State.UNLOADING))
        .compose(v -> host.stopServing(id))
        .compose(v -> loadExecutor.executeBlocking(() -> {
          SavedModelServable servable = loaded.remove(id);
          if (servable != null) {
            servable.close();
          }
          return null;
        }, false))
        .compose(v -> registry.publish(ServableRecord.of(id, State.END)));
  }

  private Future<Void> applyLabels(ModelConfig model) {
    var view = registry.snapshot().model(model.getName());
    for (Map.Entry<String, Long> label : model.getVersionLabelsMap().entrySet()) {
      boolean available = view.map(m -> m.versions().get(label.getValue()))
          .map(ServableRecord::isAvailable).orElse(false);
      if (!available && !allowLabelsForUnavailableModels) {
        return Future.failedFuture(new ConfigException("Label '" + label.getKey() + "' of model "
            + model.getName() + " points at version " + label.getValue()
            + ", which is not available; only available versions can be labelled unless "
            + "--allow_version_labels_for_unavailable_models is set"));
      }
    }
    return registry.setLabels(model.getName(), model.getVersionLabelsMap());
  }
}
