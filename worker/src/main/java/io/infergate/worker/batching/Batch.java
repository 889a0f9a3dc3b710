package io.infergate.worker.batching;

import java.util.ArrayList;
import java.util.List;

/** Tasks of one servable and one batch key that will run as one TensorFlow call. */
final class Batch {

  final String key;
  final long openedNanos;
  final List<BatchTask> tasks = new ArrayList<>();
  long rows;

  Batch(String key, long openedNanos) {
    this.key = key;
    this.openedNanos = openedNanos;
  }

  void add(BatchTask task) {
    tasks.add(task);
    rows += task.rows;
  }
}
