package io.infergate.gateway.dispatch;

import io.infergate.common.ServableId;
import io.infergate.common.bus.Addresses;
import io.infergate.common.bus.BusFailures;
import io.infergate.common.registry.ModelRegistry;
import io.infergate.common.registry.ModelView;
import io.infergate.common.registry.RoutingSnapshot;
import io.infergate.common.registry.ServableRecord;
import io.infergate.common.status.ServingException;
import io.infergate.gateway.routing.VersionSelector;
import io.infergate.proto.serving.ModelVersionStatus.State;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Gets a pageable model loaded when a request finds it loaded nowhere: the worker with the most
 * memory left is asked to load it (the next one if it has no room), once per version in this
 * process however many requests wait, and each request waits within its own deadline; past it,
 * UNAVAILABLE (503 with Retry-After), while the load goes on for those that come after. A request
 * that finds the version loading (another gateway asked) or being unloaded (evicted: it is
 * advertised again in a moment) waits for the registry's next change and is routed again.
 */
public final class ColdStarts {

  /** How long a worker may take to load a model (large ones take minutes). */
  private static final long LOAD_TIMEOUT_MILLIS = 300_000;
  /** How long to wait for this member's registry copy to show the version the worker loaded before routing again. */
  private static final long PUBLISH_LAG_MILLIS = 1_000;

  private final Vertx vertx;
  private final ModelRegistry registry;
  private final Map<ServableId, Future<Void>> loading = new ConcurrentHashMap<>();

  public ColdStarts(Vertx vertx, ModelRegistry registry) {
    this.vertx = vertx;
    this.registry = registry;
  }

  /**
   * Completes once the version the selector names is AVAILABLE; fails with {@code notServed}
   * when no worker would load it.
   */
  public Future<Void> whenLoaded(String model, VersionSelector selector, ServingException notServed,
                                 long deadlineNanos) {
    ServableRecord record = selected(registry.snapshot(), model, selector);
    if (record == null) {
      return Future.failedFuture(notServed);
    }
    if (!record.isPageable()) {
      boolean changing = record.state() == State.LOADING || record.state() == State.UNLOADING;
      return changing ? withinDeadline(nextChange(), model, deadlineNanos) : Future.failedFuture(notServed);
    }
    Future<Void> load = loading.get(record.id());
    if (load == null) {
      Promise<Void> started = Promise.promise();
      load = loading.putIfAbsent(record.id(), started.future());
      if (load == null) {
        load = started.future();
        load(record).onComplete(done -> loading.remove(record.id())).onComplete(started);
      }
    }
    return withinDeadline(load, model, deadlineNanos);
  }

  /** The version a request names, whatever its state; for no version, the highest pageable or, without one, the highest. */
  private static ServableRecord selected(RoutingSnapshot snapshot, String model, VersionSelector selector) {
    ModelView view = snapshot.model(model).orElse(null);
    if (view == null || view.versions().isEmpty()) {
      return null;
    }
    if (selector instanceof VersionSelector.Latest) {
      return view.versions().descendingMap().values().stream().filter(ServableRecord::isPageable).findFirst()
          .orElse(view.versions().lastEntry().getValue());
    }
    return selector.select(view).orElse(null);
  }

  /** The registry's next change, or a second's wait: a version in transition is routed again after it. */
  private Future<Void> nextChange() {
    Promise<Void> changed = Promise.promise();
    ModelRegistry.Subscription subscription = registry.onChange(changed::tryComplete);
    long timer = vertx.setTimer(1_000, t -> changed.tryComplete());
    return changed.future().onComplete(done -> {
      subscription.close();
      vertx.cancelTimer(timer);
    });
  }

  private Future<Void> load(ServableRecord record) {
    List<String> workers = new ArrayList<>(record.pageableOn().keySet());
    workers.sort(Comparator.comparingLong((String worker) -> record.pageableOn().get(worker)).reversed());
    return ask(record.id(), workers, 0).compose(v -> published(record.id()));
  }

  private Future<Void> ask(ServableId id, List<String> workers, int next) {
    return vertx.eventBus().request(Addresses.pageIn(workers.get(next)), id.name(),
            new DeliveryOptions().setSendTimeout(LOAD_TIMEOUT_MILLIS))
        .<Void>mapEmpty()
        .recover(failure -> next + 1 < workers.size() ? ask(id, workers, next + 1)
            : Future.failedFuture(BusFailures.toStatus(failure, "the load of " + id)));
  }

  /**
   * The worker published AVAILABLE before it answered; this member's copy of the registry follows
   * shortly. Completes when it shows the version AVAILABLE, or already UNLOADING (another model's
   * load evicted it before this request could use it), or after a while without either: the
   * request is then routed again, and has the version loaded again if it must, within its deadline.
   */
  private Future<Void> published(ServableId id) {
    Promise<Void> promise = Promise.promise();
    ModelRegistry.Subscription subscription = registry.onChange(() -> {
      if (isAvailable(id) || isUnloading(id)) {
        promise.tryComplete();
      }
    });
    long timer = vertx.setTimer(PUBLISH_LAG_MILLIS, t -> promise.tryComplete());
    if (isAvailable(id)) {
      promise.tryComplete();
    }
    return promise.future().onComplete(done -> {
      subscription.close();
      vertx.cancelTimer(timer);
    });
  }

  private boolean isAvailable(ServableId id) {
    return record(id).map(ServableRecord::isAvailable).orElse(false);
  }

  private boolean isUnloading(ServableId id) {
    return record(id).map(record -> record.state() == State.UNLOADING).orElse(false);
  }

  private Optional<ServableRecord> record(ServableId id) {
    return registry.snapshot().model(id.name()).map(view -> view.versions().get(id.version()));
  }

  private Future<Void> withinDeadline(Future<Void> load, String model, long deadlineNanos) {
    long remainingMillis = (deadlineNanos - System.nanoTime()) / 1_000_000;
    if (load.isComplete()) {
      return load;
    }
    if (remainingMillis <= 0) {
      return Future.failedFuture(loadingStill(model));
    }
    Promise<Void> waiting = Promise.promise();
    long timer = vertx.setTimer(remainingMillis, t -> waiting.tryFail(loadingStill(model)));
    load.onComplete(done -> {
      vertx.cancelTimer(timer);
      if (done.succeeded()) {
        waiting.tryComplete();
      } else {
        waiting.tryFail(done.cause());
      }
    });
    return waiting.future();
  }

  private static ServingException loadingStill(String model) {
    return ServingException.unavailable("Model " + model + " is being loaded; try again shortly");
  }
}
