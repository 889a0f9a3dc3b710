package io.infergate.worker.batching;

import io.infergate.worker.runtime.SavedModelServable;
import io.infergate.worker.runtime.SignatureRun;
import java.util.Map;
import org.tensorflow.proto.TensorProto;

/** What a batch queue runs its merged batches with: one servable. */
@FunctionalInterface
public interface BatchRunner {

  /** Runs one merged batch; blocks for as long as TensorFlow takes. */
  Map<String, TensorProto> run(SignatureRun batch);

  /**
   * How many rows shaped as {@code call}'s one run may take, whatever max_batch_size allows: the
   * servable's memory may hold fewer. Unbounded unless a servable says otherwise.
   */
  default long rowsPerRun(SignatureRun call) {
    return Long.MAX_VALUE;
  }

  /** Runs batches on a SavedModel, as many rows at once as its run memory limit takes. */
  static BatchRunner of(SavedModelServable servable) {
    return new BatchRunner() {
      @Override
      public Map<String, TensorProto> run(SignatureRun batch) {
        return servable.run(batch);
      }

      @Override
      public long rowsPerRun(SignatureRun call) {
        return servable.rowsPerRun(call);
      }
    };
  }
}
