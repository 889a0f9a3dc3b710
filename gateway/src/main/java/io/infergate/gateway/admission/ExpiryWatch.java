package io.infergate.gateway.admission;

import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends what outlives its time: answers past their deadline, request bodies that arrive too
 * slowly, direct calls to a worker. One periodic check per event loop instead of a timer per
 * request (a timer costs a scheduled task, a map entry and a cancel on every request).
 */
public final class ExpiryWatch {

  /** How late an expiry may fire at most. */
  public static final long PERIOD_MILLIS = 10;

  private static final Logger LOG = LoggerFactory.getLogger(ExpiryWatch.class);

  /** Something with a time limit. */
  public interface Expiring {
    long expiresAtNanos();

    /** Called once, on the watch's event loop, when the time is up and it is still watched. */
    void expire();
  }

  private final Set<Expiring> watched = ConcurrentHashMap.newKeySet();

  /** Checks on the calling verticle's event loop; its timer ends with the verticle. */
  public ExpiryWatch(Vertx vertx) {
    vertx.setPeriodic(PERIOD_MILLIS, id -> sweep());
  }

  public void watch(Expiring expiring) {
    watched.add(expiring);
  }

  public void unwatch(Expiring expiring) {
    watched.remove(expiring);
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
    watch(bounded);
    work.onComplete(bounded);
    return bounded.promise.future();
  }

  private final class Bounded<T> implements Expiring, Handler<AsyncResult<T>> {
    final Promise<T> promise = Promise.promise();
    final long deadlineNanos;

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
      unwatch(this);
      if (result.succeeded()) {
        promise.tryComplete(result.result());
      } else {
        promise.tryFail(result.cause());
      }
    }
  }

  private void sweep() {
    if (watched.isEmpty()) {
      return;
    }
    long now = System.nanoTime();
    for (Iterator<Expiring> it = watched.iterator(); it.hasNext(); ) {
      Expiring expiring = it.next();
      if (now - expiring.expiresAtNanos() >= 0) {
        it.remove();
        try {
          expiring.expire();
        } catch (RuntimeException e) {
          LOG.error("Ending an expired request failed", e);
        }
      }
    }
  }
}
