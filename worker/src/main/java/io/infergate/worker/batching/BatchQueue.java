package io.infergate.worker.batching;

import io.infergate.common.Priority;
import io.infergate.common.ServableId;
import io.infergate.common.status.ServingException;
import io.infergate.worker.runtime.SignatureRun;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.tensorflow.proto.TensorProto;

/**
 * The batch queue of one servable. Requests join the open batch of their key (signature,
 * outputs, input dtypes and inner shapes) and priority, so a batch never mixes servables,
 * signatures or priorities. A batch may run once it is full or its oldest request has waited
 * the batch timeout; until an execution slot is free it keeps taking requests, so batches grow
 * under load. Higher priorities run first, and a full queue makes room for a higher priority by
 * shedding its newest batch of a lower one. With a latency target, a {@link LatencyTargetTuner}
 * sets the timeout and size and refuses requests that could not run in time. Its state is the
 * scheduler's to guard: every method but {@link #submit} and {@link #close} runs under the
 * scheduler's lock.
 */
public final class BatchQueue {

  final ServableId servable;
  final BatchConfig config;
  final BatchRunner runner;
  final BatchMetrics metrics;
  /** Null with fixed parameters. */
  final LatencyTargetTuner tuner;
  private final BatchScheduler scheduler;
  private final Deque<Batch> batches = new ArrayDeque<>();
  final CompletableFuture<Void> drained = new CompletableFuture<>();
  private int queuedTasks;
  int running;
  private boolean closed;

  BatchQueue(ServableId servable, BatchConfig config, BatchRunner runner,
             BatchScheduler scheduler, BatchMetrics metrics) {
    this.servable = servable;
    this.config = config;
    this.runner = runner;
    this.scheduler = scheduler;
    this.metrics = metrics;
    this.tuner = config.latencyTargetMicros() > 0
        ? new LatencyTargetTuner(config.latencyTargetMicros() * 1_000, config.maxBatchSize(),
            config.numBatchThreads(), System.nanoTime())
        : null;
    if (tuner != null) {
      metrics.trackTuner(tuner);
    }
  }

  /**
   * Queues a call; the future completes with its outputs, or fails with UNAVAILABLE (queue
   * full, shed for a higher priority, or beyond the latency target), DEADLINE_EXCEEDED (expired
   * before it ran) or the status of the run.
   */
  public CompletableFuture<Map<String, TensorProto>> submit(SignatureRun run, long deadlineNanos, Priority priority) {
    long rows = run.rows();
    if (rows > config.maxBatchSize()) {
      metrics.rejected.increment();
      return CompletableFuture.failedFuture(ServingException.invalidArgument("Task size " + rows
          + " is larger than maximum batch size " + config.maxBatchSize()));
    }
    return scheduler.submit(this, new BatchTask(run, rows, runner.rowsPerRun(run), deadlineNanos, System.nanoTime(),
        priority), key(run));
  }

  /** Stops taking requests; completes once those already queued or running have finished. */
  public CompletableFuture<Void> close() {
    return scheduler.close(this);
  }

  /**
   * Adds a task to the open batch of its key and priority, or to a new one; whether a batch
   * thread should look again. Only then: a batch to time (a new batch's deadline) or a full
   * batch to run. Waking a thread for every request costs two context switches each and finds
   * nothing to do. Tasks shed to make room go to {@code shed}, to be failed outside the lock.
   */
  boolean add(BatchTask task, String key, List<BatchTask> shed) {
    if (closed) {
      throw ServingException.unavailable("Servable " + servable + " is unloading");
    }
    if (tuner != null && !tuner.admits(rowsAhead(task.priority) + task.rows, task.rows)) {
      metrics.shed(task.priority, "latency_target").increment();
      throw ServingException.unavailable("Model " + servable.name() + " cannot answer within its latency target "
          + "with the requests queued ahead; retry shortly");
    }
    Batch open = openBatch(key, task.priority, task.rows);
    boolean opened = open == null;
    if (opened) {
      if (batches.size() >= config.maxEnqueuedBatches() && !shedBelow(task.priority, shed)) {
        metrics.rejected.increment();
        throw ServingException.unavailable("The batch scheduling queue to which this task was submitted is full");
      }
      open = new Batch(key, task.priority, task.enqueuedNanos, task.rowsPerRun);
      batches.addLast(open);
    }
    open.add(task);
    queuedTasks++;
    return opened || isFull(open) || timeoutNanos() == 0;
  }

  void markClosed() {
    closed = true;
  }

  int queuedTasks() {
    return queuedTasks;
  }

  /**
   * Rows a batch may hold now: max_batch_size, or less while a tuner holds a latency target, or
   * less when the servable's memory takes fewer rows of the batch's shape in one run.
   */
  private long batchSize(Batch batch) {
    long size = tuner == null ? config.maxBatchSize() : Math.min(config.maxBatchSize(), tuner.batchSize());
    return Math.min(size, batch.rowsPerRun);
  }

  private boolean isFull(Batch batch) {
    return batch.rows >= batchSize(batch);
  }

  private long timeoutNanos() {
    return tuner == null ? config.batchTimeoutMicros() * 1_000 : tuner.timeoutNanos();
  }

  /** The open batch of this key and priority with room for {@code rows}: the queue's last such batch. */
  private Batch openBatch(String key, Priority priority, long rows) {
    Iterator<Batch> newestFirst = batches.descendingIterator();
    while (newestFirst.hasNext()) {
      Batch batch = newestFirst.next();
      if (batch.priority == priority && batch.key.equals(key)) {
        return batch.rows + rows <= batchSize(batch) ? batch : null;
      }
    }
    return null;
  }

  /** Rows that would run before a new task of {@code priority}: those queued at it or above. */
  private long rowsAhead(Priority priority) {
    long rows = 0;
    for (Batch batch : batches) {
      if (!priority.isAbove(batch.priority)) {
        rows += batch.rows;
      }
    }
    return rows;
  }

  /** Removes the newest batch of the lowest priority below {@code priority}; false when there is none. */
  private boolean shedBelow(Priority priority, List<BatchTask> shed) {
    Batch victim = null;
    Iterator<Batch> newestFirst = batches.descendingIterator();
    while (newestFirst.hasNext()) {
      Batch batch = newestFirst.next();
      if (priority.isAbove(batch.priority) && (victim == null || victim.priority.isAbove(batch.priority))) {
        victim = batch;
      }
    }
    if (victim == null) {
      return false;
    }
    batches.remove(victim);
    queuedTasks -= victim.tasks.size();
    metrics.shed(victim.priority, "preempted").increment(victim.tasks.size());
    shed.addAll(victim.tasks);
    return true;
  }

  /** Removes and returns a batch of {@code priority} that may run now, or null. Caller holds the lock. */
  Batch takeRunnable(long now, Priority priority) {
    for (Iterator<Batch> it = batches.iterator(); it.hasNext(); ) {
      Batch batch = it.next();
      if (batch.priority == priority && isRunnable(batch, now)) {
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
    long timeout = timeoutNanos();
    for (Batch batch : batches) {
      next = Math.min(next, batch.openedNanos + timeout);
    }
    return next;
  }

  boolean isDrained() {
    return closed && batches.isEmpty() && running == 0;
  }

  private boolean isRunnable(Batch batch, long now) {
    return isFull(batch) || closed || now - batch.openedNanos >= timeoutNanos();
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
