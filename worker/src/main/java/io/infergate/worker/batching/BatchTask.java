package io.infergate.worker.batching;

import io.infergate.common.Priority;
import io.infergate.worker.runtime.SignatureRun;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.tensorflow.proto.TensorProto;

/** One request waiting in a batch queue, with the deadline past which it is dropped unrun. */
final class BatchTask {

  final SignatureRun run;
  final long rows;
  /** Rows of this task's shape that fit in one run: the batch it opens holds no more. */
  final long rowsPerRun;
  final long deadlineNanos;
  final long enqueuedNanos;
  final Priority priority;
  final CompletableFuture<Map<String, TensorProto>> result = new CompletableFuture<>();

  BatchTask(SignatureRun run, long rows, long rowsPerRun, long deadlineNanos, long enqueuedNanos, Priority priority) {
    this.run = run;
    this.rows = rows;
    this.rowsPerRun = rowsPerRun;
    this.deadlineNanos = deadlineNanos;
    this.enqueuedNanos = enqueuedNanos;
    this.priority = priority;
  }
}
