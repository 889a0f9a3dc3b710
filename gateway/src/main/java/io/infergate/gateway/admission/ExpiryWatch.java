package io.infergate.gateway.admission;

import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends what outlives its time: answers past their deadline, request bodies that arrive too
 * slowly, direct calls to a worker. One periodic check instead of a timer per request (a timer
 * costs a scheduled task, a map entry and a cancel on every request). Each event loop keeps its
 * own queue of watches, checked on that loop, so watching costs an append and ending a watch a
 * flag: no hashing, no shared map on the path of every request. Ended watches leave their queue
 * at its next check.
 */
public final class ExpiryWatch {

  /** How late an expiry may fire at most. */
  public static final long PERIOD_MILLIS = 10;

  private static final Logger LOG = LoggerFactory.getLogger(ExpiryWatch.class);

  /** Something with a time limit. */
  public interface Expiring {
    long expiresAtNanos();

    /** Called at most once, on the event loop that watched it, when the time is up and it is still watched. */
    void expire();
  }

  /** One watch on an {@link Expiring}; {@link #end()} it, from any thread, once it is done. */
  public static final class Watch {
    private final Expiring expiring;
    private volatile boolean ended;

    private Watch(Expiring expiring) {
      this.expiring = expiring;
    }

    public void end() {
      ended = true;
    }
  }

  /** The watches of one event loop, checked on it; or, with no context, those made off event loops. */
  private record Shard(Context context, Queue<Watch> watches) {
    void check() {
      long now = System.nanoTime();
      // Each watch present now is taken once and put back at the tail if still running.
      for (int i = watches.size(); i > 0; i--) {
        Watch watch = watches.poll();
        if (watch == null) {
          return;
        }
        if (watch.ended) {
          continue;
        }
        if (now - watch.expiring.expiresAtNanos() < 0) {
          watches.add(watch);
          continue;
        }
        try {
          watch.expiring.expire();
        } catch (RuntimeException e) {
          LOG.error("Ending an expired request failed", e);
        }
      }
    }
  }

  private final Map<Thread, Shard> loops = new ConcurrentHashMap<>();
  private final Shard offLoop = new Shard(null, new ConcurrentLinkedQueue<>());

  /** Checks every {@link #PERIOD_MILLIS}; the timer ends with the calling verticle. */
  public ExpiryWatch(Vertx vertx) {
    vertx.setPeriodic(PERIOD_MILLIS, id -> checkAll());
  }

  public Watch watch(Expiring expiring) {
    Watch watch = new Watch(expiring);
    shardOfCaller().watches().add(watch);
    return watch;
  }

  /**
   * {@code work}'s outcome, or DEADLINE_EXCEEDED once the deadline passes without one, whatever
   * {@code work} does afterwards: nothing waits past its deadline.
   */
  public <T> Future<T> bound(Future<T> work, long deadlineNanos) {
    if (work.isComplete()) {
      return work;
    }
    Bounded<T> bounded = new Bounded<>(deadlineNanos);
    bounded.watch = watch(bounded);
    work.onComplete(bounded);
    return bounded.promise.future();
  }

  private static final class Bounded<T> implements Expiring, Handler<AsyncResult<T>> {
    final Promise<T> promise = Promise.promise();
    final long deadlineNanos;
    Watch watch;

    Bounded(long deadlineNanos) {
      this.deadlineNanos = deadlineNanos;
    }

    @Override
    public long expiresAtNanos() {
      return deadlineNanos;
    }

    @Override
    public void expire() {
      promise.tryFail(new ServingException(StatusCode.DEADLINE_EXCEEDED,
          "Deadline exceeded before the request was answered"));
    }

    @Override
    public void handle(AsyncResult<T> result) {
      watch.end();
      if (result.succeeded()) {
        promise.tryComplete(result.result());
      } else {
        promise.tryFail(result.cause());
      }
    }
  }

  private Shard shardOfCaller() {
    if (!Context.isOnEventLoopThread()) {
      return offLoop;
    }
    Thread thread = Thread.currentThread();
    Shard shard = loops.get(thread);
    if (shard == null) {
      shard = loops.computeIfAbsent(thread, t -> new Shard(Vertx.currentContext(), new ArrayDeque<>()));
    }
    return shard;
  }

  /** An event loop's queue is only touched on that loop, so its check is sent there. */
  private void checkAll() {
    offLoop.check();
    for (Shard shard : loops.values()) {
      shard.context().runOnContext(v -> shard.check());
    }
  }
}
