package io.infergate.worker.batching;

import io.infergate.common.ServableId;
import io.infergate.common.status.ServingException;
import io.infergate.worker.runtime.SignatureRun;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.tensorflow.proto.TensorProto;

/**
 * The batch queue of one servable. Requests join the open batch of their key (signature,
 * outputs, input dtypes and inner shapes), so a batch never mixes servables or signatures. A
 * batch may run once it is full or its oldest request has waited the batch timeout; until an
 * execution slot is free it keeps taking requests, so batches grow under load. Its state is
 * the scheduler's to guard: every method but {@link #submit} and {@link #close} runs under the
 * scheduler's lock.
 */
public final class BatchQueue {

  final ServableId servable;
  final BatchConfig config;
  final Function<SignatureRun, Map<String, TensorProto>> runner;
  final BatchMetrics metrics;
  private final BatchScheduler scheduler;
  private final Deque<Batch> batches = new ArrayDeque<>();
  final CompletableFuture<Void> drained = new CompletableFuture<>();
  private int queuedTasks;
  int running;
  private boolean closed;

  BatchQueue(ServableId servable, BatchConfig config, Function<SignatureRun, Map<String, TensorProto>> runner,
             BatchScheduler scheduler, BatchMetrics metrics) {
    this.servable = servable;
    this.config = config;
    this.runner = runner;
    this.scheduler = scheduler;
    this.metrics = metrics;
  }

  /**
   * Queues a call; the future completes with its outputs, or fails with UNAVAILABLE (queue
   * full), DEADLINE_EXCEEDED (expired before it ran) or the status of the run.
   */
  public CompletableFuture<Map<String, TensorProto>> submit(SignatureRun run, long deadlineNanos) {
    long rows = run.rows();
    if (rows > config.maxBatchSize()) {
      metrics.rejected.increment();
      return CompletableFuture.failedFuture(ServingException.invalidArgument("Task size " + rows
          + " is larger than maximum batch size " + config.maxBatchSize()));
    }
    return scheduler.submit(this, new BatchTask(run, rows, deadlineNanos, System.nanoTime()), key(run));
  }

  /** Stops taking requests; completes once those already queued or running have finished. */
  public CompletableFuture<Void> close() {
    return scheduler.close(this);
  }

  /**
   * Adds a task to the open batch of its key, or to a new one; whether a batch thread should
   * look again. Only then: a batch to time (a new batch's deadline) or a full batch to run.
   * Waking a thread for every request costs two context switches each and finds nothing to do.
   */
  boolean add(BatchTask task, String key) {
    if (closed) {
      throw ServingException.unavailable("Servable " + servable + " is unloading");
    }
    Batch open = openBatch(key, task.rows);
    boolean opened = open == null;
    if (opened) {
      if (batches.size() >= config.maxEnqueuedBatches()) {
        metrics.rejected.increment();
        throw ServingException.unavailable("The batch scheduling queue to which this task was submitted is full");
      }
      open = new Batch(key, task.enqueuedNanos);
      batches.addLast(open);
    }
    open.add(task);
    queuedTasks++;
    return opened || open.rows >= config.maxBatchSize() || config.batchTimeoutMicros() == 0;
  }

  void markClosed() {
    closed = true;
  }

  int queuedTasks() {
    return queuedTasks;
  }

  /** The open batch of this key with room for {@code rows}; the queue's last batch of that key. */
  private Batch openBatch(String key, long rows) {
    Iterator<Batch> newestFirst = batches.descendingIterator();
    while (newestFirst.hasNext()) {
      Batch batch = newestFirst.next();
      if (batch.key.equals(key)) {
        return batch.rows + rows <= config.maxBatchSize() ? batch : null;
      }
    }
    return null;
  }

  /** Removes and returns a batch that may run now, or null. Caller holds the lock. */
  Batch takeRunnable(long now) {
    for (Iterator<Batch> it = batches.iterator(); it.hasNext(); ) {
      Batch batch = it.next();
      if (isRunnable(batch, now)) {
        it.remove();
        queuedTasks -= batch.tasks.size();
        return batch;
      }
    }
    return null;
  }

  /** When the earliest batch becomes runnable by age, or Long.MAX_VALUE when none waits. Caller holds the lock. */
  long nextDeadline() {
    long next = Long.MAX_VALUE;
    for (Batch batch : batches) {
      next = Math.min(next, batch.openedNanos + config.batchTimeoutMicros() * 1_000);
    }
    return next;
  }

  boolean isDrained() {
    return closed && batches.isEmpty() && running == 0;
  }

  private boolean isRunnable(Batch batch, long now) {
    return batch.rows >= config.maxBatchSize() || closed
        || now - batch.openedNanos >= config.batchTimeoutMicros() * 1_000;
  }

  /** Inputs are listed in the signature's order, which every call of one servable shares. */
  private String key(SignatureRun run) {
    StringBuilder key = new StringBuilder(run.signatureKey()).append('|').append(run.outputs());
    for (String name : run.signature().getInputsMap().keySet()) {
      TensorProto tensor = run.inputs().get(name);
      if (tensor != null) {
        key.append('|').append(name).append(':')
            .append(TensorBatcher.innerShapeKey(tensor, config.padVariableLengthInputs()));
      }
    }
    return key.toString();
  }
}
