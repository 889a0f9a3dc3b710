package io.infergate.gateway.dispatch;

import io.infergate.common.bus.Addresses;
import io.infergate.common.bus.BusFailures;
import io.infergate.common.registry.ModelRegistry;
import io.infergate.common.registry.ModelView;
import io.infergate.common.registry.ServableRecord;
import io.infergate.common.status.ServingException;
import io.infergate.proto.serving.ReloadConfigRequest;
import io.infergate.proto.serving.ReloadConfigResponse;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Hands a new model server config (gRPC's HandleReloadConfigRequest) to every worker it
 * concerns and combines their answers. A config replaces the whole set of models, so it
 * concerns every worker that serves a model now; when none does yet, one worker takes it.
 */
public final class ConfigReloads {

  private final EventBus eventBus;
  private final ModelRegistry registry;

  public ConfigReloads(EventBus eventBus, ModelRegistry registry) {
    this.eventBus = eventBus;
    this.registry = registry;
  }

  /** Succeeds when every worker applied the config; else fails with the first failure's code and every worker's error. */
  public Future<ReloadConfigResponse> reload(ReloadConfigRequest request, long deadlineNanos) {
    Set<String> workers = workers();
    if (workers.isEmpty()) {
      return send(Addresses.RELOAD_CONFIG, request, deadlineNanos, "the model config reload");
    }
    List<String> targets = List.copyOf(workers);
    List<Future<ReloadConfigResponse>> answers = new ArrayList<>();
    for (String worker : targets) {
      answers.add(send(Addresses.reloadConfig(worker), request, deadlineNanos, "the model config reload on worker " + worker));
    }
    return Future.join(answers).transform(done -> {
      ServingException first = null;
      List<String> errors = new ArrayList<>();
      for (int i = 0; i < answers.size(); i++) {
        if (answers.get(i).failed()) {
          ServingException failure = ServingException.of(answers.get(i).cause());
          first = first == null ? failure : first;
          errors.add("worker " + targets.get(i) + ": " + failure.getMessage());
        }
      }
      if (first == null) {
        return answers.get(0);
      }
      return Future.failedFuture(new ServingException(first.code(), "The config was not applied on "
          + errors.size() + " of " + targets.size() + " workers: " + String.join("; ", errors)));
    });
  }

  /** Every worker on which some version of some model is available. */
  private Set<String> workers() {
    Set<String> workers = new TreeSet<>();
    for (ModelView model : registry.snapshot().models().values()) {
      for (ServableRecord servable : model.versions().values()) {
        workers.addAll(servable.workers());
      }
    }
    return workers;
  }

  private Future<ReloadConfigResponse> send(String address, ReloadConfigRequest request, long deadlineNanos,
                                            String target) {
    long remaining = Math.max(1, (deadlineNanos - System.nanoTime()) / 1_000_000);
    return eventBus.<ReloadConfigResponse>request(address, request, new DeliveryOptions().setSendTimeout(remaining))
        .map(Message::body)
        .recover(failure -> Future.failedFuture(BusFailures.toStatus(failure, target)));
  }
}
