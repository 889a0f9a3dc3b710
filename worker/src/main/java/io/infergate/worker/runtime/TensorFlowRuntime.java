package io.infergate.worker.runtime;

import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;

/**
 * TensorFlow's own start-up, done once before any version loads: its native library, device
 * discovery and thread pools take a few hundred MiB the first time a session runs, which would
 * otherwise be counted as the first version's footprint.
 */
final class TensorFlowRuntime {

  private static volatile boolean started;

  private TensorFlowRuntime() {}

  /** Blocking; the loader calls it on a load thread before measuring its first load. */
  static synchronized void start(SessionOptions options) {
    if (started) {
      return;
    }
    try (Graph graph = new Graph(); Session session = new Session(graph, options.config())) {
      Ops tf = Ops.create(graph);
      try (Result result = session.runner().fetch(tf.math.add(tf.constant(1), tf.constant(1))).run()) {
        started = result.size() == 1;
      }
    }
  }
}
