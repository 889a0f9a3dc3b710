package io.infergate.worker.batching;

import io.infergate.common.Priority;
import java.util.ArrayList;
import java.util.List;

/** Tasks of one servable, one batch key and one priority that will run as one TensorFlow call. */
final class Batch {

  final String key;
  final Priority priority;
  final long openedNanos;
  /** Rows of this batch's shape that fit in one run of the servable. */
  final long rowsPerRun;
  final List<BatchTask> tasks = new ArrayList<>();
  long rows;

  Batch(String key, Priority priority, long openedNanos, long rowsPerRun) {
    this.key = key;
    this.priority = priority;
    this.openedNanos = openedNanos;
    this.rowsPerRun = rowsPerRun;
  }

  void add(BatchTask task) {
    tasks.add(task);
    rows += task.rows;
  }
}
