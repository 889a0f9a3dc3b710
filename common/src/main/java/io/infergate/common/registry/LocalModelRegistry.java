package io.infergate.common.registry;

import io.infergate.common.ServableId;
import io.vertx.core.Future;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;

/** The registry of a single process: writers are serialised, readers see whole snapshots. */
public final class LocalModelRegistry implements ModelRegistry {

  private volatile RoutingSnapshot snapshot = RoutingSnapshot.EMPTY;

  @Override
  public RoutingSnapshot snapshot() {
    return snapshot;
  }

  @Override
  public Future<Void> publish(ServableRecord record) {
    ServableId id = record.id();
    return update(id.name(), model -> {
      TreeMap<Long, ServableRecord> versions = new TreeMap<>(model.versions());
      versions.put(id.version(), record);
      return new ModelView(model.name(), versions, model.labels());
    });
  }

  @Override
  public Future<Void> remove(ServableId id) {
    return update(id.name(), model -> {
      TreeMap<Long, ServableRecord> versions = new TreeMap<>(model.versions());
      versions.remove(id.version());
      return new ModelView(model.name(), versions, model.labels());
    });
  }

  @Override
  public Future<Void> setLabels(String model, Map<String, Long> labels) {
    return update(model, view -> new ModelView(view.name(), view.versions(), labels));
  }

  @Override
  public synchronized Future<Void> removeModel(String model) {
    Map<String, ModelView> models = new HashMap<>(snapshot.models());
    models.remove(model);
    snapshot = new RoutingSnapshot(models);
    return Future.succeededFuture();
  }

  private synchronized Future<Void> update(String name, UnaryOperator<ModelView> change) {
    Map<String, ModelView> models = new HashMap<>(snapshot.models());
    ModelView current = models.getOrDefault(name, new ModelView(name, new TreeMap<>(), Map.of()));
    models.put(name, change.apply(current));
    snapshot = new RoutingSnapshot(models);
    return Future.succeededFuture();
  }
}
