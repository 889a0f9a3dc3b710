package io.infergate.gateway.dispatch;

import io.infergate.common.Priority;
import io.infergate.common.ServableId;
import io.infergate.common.TensorLimits;
import io.infergate.common.bus.Addresses;
import io.infergate.common.bus.BusFailures;
import io.infergate.common.bus.Frames;
import io.infergate.common.bus.LocalServables;
import io.infergate.common.registry.ModelRegistry;
import io.infergate.common.registry.ServableRecord;
import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.infergate.gateway.admission.Admission;
import io.infergate.gateway.admission.ExpiryWatch;
import io.infergate.proto.frames.FramedReply;
import io.infergate.proto.serving.PredictRequest;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Sends a request to one of the workers that serve its servable, with the request's remaining
 * deadline. A request is sent once more, to the servable routed afresh, when its worker turns
 * out not to take it: no handler (a version transition), or the worker left the cluster while
 * the request was in flight (noticed from the registry, long before the deadline). Inference
 * is idempotent, so the retry is safe. A worker in this process is called directly; requests to
 * workers in other processes travel in frames ({@link FrameSender}). Every request's own deadline
 * is watched here.
 */
public final class WorkerClient {

  private final Vertx vertx;
  private final Map<String, Set<Pending<?>>> inFlight = new ConcurrentHashMap<>();
  private final Map<Thread, EventLoopLinks> loops = new ConcurrentHashMap<>();
  private final AtomicInteger turn = new AtomicInteger();
  private final ModelRegistry registry;
  private final LocalServables local;
  private final ExpiryWatch expiry;
  private final TensorLimits limits;
  private final Admission admission;
  private final ModelRegistry.Subscription departures;

  /**
   * @param local the servables of this process's worker, called directly instead of over the bus
   * @param expiry fails a direct call once its deadline passes (the bus times out its requests itself)
   * @param limits what a request's tensors may be; nothing beyond them leaves the gateway
   * @param admission whose per-model budget each request counts against while it is in flight
   */
  public WorkerClient(Vertx vertx, ModelRegistry registry, LocalServables local, ExpiryWatch expiry,
                      TensorLimits limits, Admission admission) {
    this.vertx = vertx;
    this.registry = registry;
    this.local = local;
    this.expiry = expiry;
    this.limits = limits;
    this.admission = admission;
    this.departures = registry.onChange(this::failOverDepartedWorkers);
  }

  /** Stops following the registry; requests in flight still get their answers or deadlines. */
  public void close() {
    departures.close();
  }

  /** A worker's answer and the servable that gave it. */
  public record Served<T>(T response, ServableId servable) {}

  /** A request waiting for a worker: retried once if that worker goes. */
  private final class Pending<T> implements ExpiryWatch.Expiring {
    final Supplier<ServableRecord> route;
    final Object request;
    final long deadlineNanos;
    final Priority priority;
    final Promise<Served<T>> result = Promise.promise();
    final Context context = vertx.getOrCreateContext();
    volatile boolean retried;
    volatile String worker;
    volatile ServableId servable;
    /** The watch on this request's deadline while a worker has it. */
    volatile ExpiryWatch.Watch deadline;

    Pending(Supplier<ServableRecord> route, Object request, long deadlineNanos, Priority priority) {
      this.route = route;
      this.request = request;
      this.deadlineNanos = deadlineNanos;
      this.priority = priority;
    }

    void send(ServableRecord servable, String excludedWorker) {
      String chosen = pick(servable.workers(), excludedWorker);
      if (chosen == null) {
        result.tryFail(ServingException.unavailable("No worker is serving " + servable.id()));
        return;
      }
      worker = chosen;
      this.servable = servable.id();
      String address = Addresses.servable(servable.id(), chosen);
      LocalServables.Handler handler = local.find(address);
      if (handler != null) {
        // This process's own worker answers what it took even while it unloads: no fail-over to track.
        deadline = expiry.watch(this);
        LoopInbox inbox = links(context).answers();
        handler.handle(request, deadlineNanos, priority, (response, failure) -> inbox.post(() -> {
          deadline.end();
          if (failure == null) {
            complete(response);
          } else {
            result.tryFail(ServingException.of(failure));
          }
        }));
        return;
      }
      inFlight.computeIfAbsent(chosen, w -> ConcurrentHashMap.newKeySet()).add(this);
      if (!stillServes(servable.id(), chosen)) {
        // Dropped from the registry while this request was routed: the fail-over may have run
        // before it was in flight, and nothing would answer it before its deadline.
        forget(chosen, this);
        retry(chosen);
        return;
      }
      deadline = expiry.watch(this);
      links(context).frames().send(address, request, deadlineNanos, priority, new FrameSender.Outcome() {
        @Override
        public void answered(FramedReply reply) {
          Pending.this.answered(chosen);
          try {
            complete(Frames.response(reply));
          } catch (ServingException failure) {
            result.tryFail(failure);
          }
        }

        @Override
        public void failed(Throwable busFailure) {
          forget(chosen, Pending.this);
          if (chosen.equals(worker)) { // not re-sent elsewhere meanwhile, whose deadline stays watched
            deadline.end();
            Pending.this.failed(busFailure, servable, chosen);
          }
        }
      });
    }

    private void answered(String chosen) {
      deadline.end();
      forget(chosen, this);
    }

    private void complete(Object response) {
      @SuppressWarnings("unchecked")
      T typed = (T) response;
      result.tryComplete(new Served<>(typed, servable));
    }

    @Override
    public long expiresAtNanos() {
      return deadlineNanos;
    }

    @Override
    public void expire() {
      String lost = worker;
      if (lost != null) {
        forget(lost, this);
      }
      result.tryFail(new ServingException(StatusCode.DEADLINE_EXCEEDED, "Deadline exceeded while waiting for " + servable));
    }

    void failed(Throwable failure, ServableRecord servable, String chosen) {
      if (isUnserved(failure, deadlineNanos)) {
        retry(chosen);
      } else {
        result.tryFail(BusFailures.toStatus(failure, servable.id().toString()));
      }
    }

    /** Once: route again and send, to another worker if the servable is still where it was. */
    void retry(String lostWorker) {
      if (retried || result.future().isComplete()) {
        result.tryFail(ServingException.unavailable("No worker answered for the request's servable"));
        return;
      }
      retried = true;
      worker = null;
      ServableId previous = servable;
      context.runOnContext(v -> {
        try {
          ServableRecord next = route.get();
          send(next, next.id().equals(previous) ? lostWorker : null);
        } catch (RuntimeException e) {
          result.tryFail(e);
        }
      });
    }
  }

  /**
   * @param servable the servable routed for the request
   * @param reroute routes the request again for a retry (it may choose another servable)
   * @param priority where the request stands in the worker's batch queue, and in the model's budget here
   * @throws io.infergate.common.status.ServingException INVALID_ARGUMENT for a tensor beyond the limits,
   *     RESOURCE_EXHAUSTED when the model has as many requests in flight as it may at this priority
   */
  public <T> Future<Served<T>> request(ServableRecord servable, Supplier<ServableRecord> reroute, Object request,
                                       long deadlineNanos, Priority priority) {
    if (request instanceof PredictRequest predict) {
      // Every API's decoded request passes here: the one place its tensors are checked before they travel.
      predict.getInputsMap().forEach(limits::check);
    }
    Runnable release = admission.admitForModel(servable.id().name(), priority);
    Pending<T> pending = new Pending<>(reroute, request, deadlineNanos, priority);
    pending.send(servable, null);
    return pending.result.future().onComplete(done -> release.run());
  }

  /** What one event loop sends requests through and gets its local answers back by. */
  private record EventLoopLinks(FrameSender frames, LoopInbox answers) {}

  /** The calling event loop's links, which coalesce its requests and answers; links of its own off an event loop. */
  private EventLoopLinks links(Context context) {
    if (!Context.isOnEventLoopThread()) {
      return new EventLoopLinks(new FrameSender(vertx, context), new LoopInbox(context));
    }
    return loops.computeIfAbsent(Thread.currentThread(),
        thread -> new EventLoopLinks(new FrameSender(vertx, context), new LoopInbox(context)));
  }

  /** The next worker in turn, skipping {@code excluded}; null when there is none. */
  private String pick(List<String> workers, String excluded) {
    int size = workers.size();
    if (size == 1) {
      return workers.get(0).equals(excluded) ? null : workers.get(0);
    }
    int start = Math.floorMod(turn.getAndIncrement(), size);
    for (int i = 0; i < size; i++) {
      String worker = workers.get((start + i) % size);
      if (!worker.equals(excluded)) {
        return worker;
      }
    }
    return null;
  }

  private void forget(String worker, Pending<?> pending) {
    Set<Pending<?>> pendings = inFlight.get(worker);
    if (pendings != null) {
      pendings.remove(pending);
    }
  }

  /** Whether the registry's latest snapshot still has the worker serving the servable. */
  private boolean stillServes(ServableId servable, String worker) {
    return registry.snapshot().model(servable.name())
        .map(model -> model.versions().get(servable.version()))
        .map(record -> record.workers().contains(worker))
        .orElse(false);
  }

  /** Requests in flight to workers that no longer serve anything are sent elsewhere at once. */
  private void failOverDepartedWorkers() {
    if (inFlight.isEmpty()) {
      return;
    }
    Set<String> alive = new HashSet<>();
    registry.snapshot().models().values().forEach(model ->
        model.versions().values().forEach(record -> alive.addAll(record.workers())));
    for (String worker : List.copyOf(inFlight.keySet())) {
      if (!alive.contains(worker)) {
        Set<Pending<?>> lost = inFlight.remove(worker);
        if (lost != null) {
          lost.forEach(pending -> pending.retry(worker));
        }
      }
    }
  }

  /**
   * No consumer ran the request: none was registered, the worker is unloading the servable, or
   * the consumer it reached was unregistered before handling it (Vert.x then fails the request as
   * timed out, long before its deadline).
   */
  private static boolean isUnserved(Throwable failure, long deadlineNanos) {
    if (!(failure instanceof ReplyException reply)) {
      return false;
    }
    return reply.failureType() == ReplyFailure.NO_HANDLERS || BusFailures.isStopping(reply)
        || reply.failureType() == ReplyFailure.TIMEOUT && deadlineNanos - System.nanoTime() > 1_000_000;
  }
}
