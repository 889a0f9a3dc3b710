package io.infergate.gateway.dispatch;

import io.vertx.core.Context;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Brings answers made on other threads (this process's batch threads) back to one event loop in
 * groups: a batch answers dozens of requests at once, and one task that runs them all costs the
 * loop one dispatch instead of one per answer.
 */
final class LoopInbox {

  private final Context context;
  private final Queue<Runnable> answers = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();

  LoopInbox(Context context) {
    this.context = context;
  }

  /** Runs {@code answer} on the inbox's event loop, with whatever else arrived meanwhile. */
  void post(Runnable answer) {
    answers.add(answer);
    if (!scheduled.get() && scheduled.compareAndSet(false, true)) {
      context.runOnContext(v -> runAll());
    }
  }

  private void runAll() {
    // Cleared first: an answer posted from here on schedules another run, and is not missed if this one takes it.
    scheduled.set(false);
    for (Runnable answer = answers.poll(); answer != null; answer = answers.poll()) {
      answer.run();
    }
  }
}
