package io.infergate.worker.batching;

import io.infergate.common.Priority;
import io.infergate.common.ServableId;
import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.infergate.worker.runtime.SignatureRun;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.tensorflow.proto.TensorProto;

/**
 * TF Serving's shared batch scheduler: one pool of {@code num_batch_threads} execution
 * threads serves the batch queues of every servable, taking runnable batches from the queues
 * in turn. These threads are the worker's TensorFlow threads when batching is on.
 */
public final class BatchScheduler {

  /** Guards every queue's state as well as the scheduler's: a batch thread looks at all queues at once. */
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition work = lock.newCondition();
  private final List<BatchQueue> queues = new ArrayList<>();
  /** Tasks a queue shed while the lock was held, to be failed once it is released; empty between submits. */
  private final List<BatchTask> shed = new ArrayList<>();
  private static final Priority[] PRIORITIES = Priority.values();
  private final List<Thread> threads = new ArrayList<>();
  private final MeterRegistry meters;
  private final AtomicInteger running;
  private final CompletableFuture<Void> stopped = new CompletableFuture<>();
  private int nextQueue;
  private boolean shutdown;

  public BatchScheduler(int threadCount, MeterRegistry meters) {
    this.meters = meters;
    this.running = new AtomicInteger(threadCount);
    for (int i = 0; i < threadCount; i++) {
      Thread thread = new Thread(this::loop, "infergate-batch-" + i);
      thread.setDaemon(true);
      threads.add(thread);
      thread.start();
    }
  }

  /** A new queue for one servable; its batches run {@code runner} on a scheduler thread. */
  public BatchQueue addQueue(ServableId servable, BatchConfig config, BatchRunner runner) {
    lock.lock();
    try {
      BatchQueue queue = new BatchQueue(servable, config, runner, this, BatchMetrics.of(meters, servable));
      queues.add(queue);
      queue.metrics.trackDepth(queue, BatchQueue::queuedTasks);
      return queue;
    } finally {
      lock.unlock();
    }
  }

  /** Queues a task of {@code queue} under the lock, waking a batch thread when there is something new for it. */
  CompletableFuture<Map<String, TensorProto>> submit(BatchQueue queue, BatchTask task, String key) {
    List<BatchTask> victims = List.of();
    lock.lock();
    try {
      if (queue.add(task, key, shed)) {
        work.signal();
      }
      if (!shed.isEmpty()) {
        victims = List.copyOf(shed);
        shed.clear();
      }
    } catch (ServingException e) {
      return CompletableFuture.failedFuture(e);
    } finally {
      lock.unlock();
    }
    // Their answers run callbacks: never under the lock.
    for (BatchTask victim : victims) {
      victim.result.completeExceptionally(ServingException.unavailable(
          "Shed from the batch queue to make room for higher-priority requests; retry shortly"));
    }
    return task.result;
  }

  /** Stops a queue taking requests; completes once those queued or running have finished. */
  CompletableFuture<Void> close(BatchQueue queue) {
    lock.lock();
    try {
      queue.markClosed();
      work.signal();
      removeIfDrained(queue);
    } finally {
      lock.unlock();
    }
    return queue.drained;
  }

  /** Caller holds the lock. */
  private void removeIfDrained(BatchQueue queue) {
    if (queue.isDrained()) {
      queues.remove(queue);
      queue.metrics.remove();
      queue.drained.complete(null);
    }
  }

  /** Stops the batch threads once each finished its batch; completes when the last has stopped. Never blocks. */
  public CompletableFuture<Void> close() {
    lock.lock();
    try {
      shutdown = true;
      work.signalAll();
    } finally {
      lock.unlock();
    }
    return stopped;
  }

  private void loop() {
    try {
      runBatches();
    } finally {
      if (running.decrementAndGet() == 0) {
        stopped.complete(null);
      }
    }
  }

  private void runBatches() {
    while (true) {
      BatchQueue queue;
      Batch batch;
      lock.lock();
      try {
        while (true) {
          if (shutdown) {
            return;
          }
          long now = System.nanoTime();
          queue = null;
          batch = null;
          // Priorities first, across servables; queues in turn within a priority.
          for (Priority priority : PRIORITIES) {
            for (int i = 0; i < queues.size() && batch == null; i++) {
              queue = queues.get((nextQueue + i) % queues.size());
              batch = queue.takeRunnable(now, priority);
            }
            if (batch != null) {
              break;
            }
          }
          if (batch != null) {
            nextQueue = (queues.indexOf(queue) + 1) % queues.size();
            queue.running++;
            work.signal();
            break;
          }
          long next = Long.MAX_VALUE;
          for (BatchQueue q : queues) {
            next = Math.min(next, q.nextDeadline());
          }
          if (next == Long.MAX_VALUE) {
            work.await();
          } else {
            work.awaitNanos(Math.max(1, next - now));
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } finally {
        lock.unlock();
      }
      execute(queue, batch);
      lock.lock();
      try {
        queue.running--;
        removeIfDrained(queue);
      } finally {
        lock.unlock();
      }
    }
  }

  private static void execute(BatchQueue queue, Batch batch) {
    long now = System.nanoTime();
    BatchMetrics metrics = queue.metrics;
    List<BatchTask> live = new ArrayList<>(batch.tasks.size());
    LatencyTargetTuner tuner = queue.tuner;
    for (BatchTask task : batch.tasks) {
      metrics.recordTask(now - task.enqueuedNanos, task.rows);
      if (task.deadlineNanos - now < 0) {
        if (tuner != null) {
          tuner.recordRequest(now - task.enqueuedNanos);
        }
        metrics.expired.increment();
        task.result.completeExceptionally(new ServingException(StatusCode.DEADLINE_EXCEEDED,
            "Deadline exceeded while the request waited for its batch"));
      } else {
        live.add(task);
      }
    }
    if (live.isEmpty()) {
      return;
    }
    long rows = 0;
    long[] rowsPerTask = new long[live.size()];
    List<SignatureRun> runs = new ArrayList<>(live.size());
    for (int i = 0; i < live.size(); i++) {
      rowsPerTask[i] = live.get(i).rows;
      rows += rowsPerTask[i];
      runs.add(live.get(i).run);
    }
    int padded = queue.config.paddedSize(Math.toIntExact(rows));
    try {
      boolean alone = runs.size() == 1 && padded == rows;
      SignatureRun merged = alone ? runs.get(0)
          : TensorBatcher.merge(runs, padded, queue.config.padVariableLengthInputs());
      long started = System.nanoTime();
      Map<String, TensorProto> outputs = queue.runner.run(merged);
      long ended = System.nanoTime();
      metrics.runTime.record(ended - started, TimeUnit.NANOSECONDS);
      if (tuner != null) {
        tuner.recordBatch(ended - started, padded);
        live.forEach(task -> tuner.recordRequest(ended - task.enqueuedNanos));
        tuner.adjust(ended);
      }
      List<Map<String, TensorProto>> parts = alone ? List.of(outputs)
          : TensorBatcher.split(outputs, rowsPerTask, padded);
      metrics.recordBatch(live.size(), rows, padded);
      for (int i = 0; i < live.size(); i++) {
        live.get(i).result.complete(parts.get(i));
      }
    } catch (RuntimeException e) {
      ServingException status = ServingException.of(e);
      live.forEach(task -> task.result.completeExceptionally(status));
    }
  }
}
