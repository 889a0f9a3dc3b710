package io.infergate.worker.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.AllocationRecord;
import org.tensorflow.proto.AllocatorMemoryUsed;
import org.tensorflow.proto.DeviceStepStats;
import org.tensorflow.proto.NodeExecStats;
import org.tensorflow.proto.RunMetadata;
import org.tensorflow.proto.TensorProto;

/**
 * The memory one run of a signature takes at its peak, as a line in the number of input elements
 * it is fed: a model's activations grow with its batch. Fitted from two traced runs.
 *
 * @param fixedBytes what a run takes whatever its size
 * @param bytesPerElement what each input element adds
 */
public record RunMemory(long fixedBytes, double bytesPerElement) {

  /** The line through two measured runs; flat when the larger one took no more. */
  static RunMemory fit(long elementsSmall, long bytesSmall, long elementsLarge, long bytesLarge) {
    double perElement = elementsLarge > elementsSmall
        ? Math.max(0, (double) (bytesLarge - bytesSmall) / (elementsLarge - elementsSmall)) : 0;
    long fixed = Math.max(0, bytesSmall - (long) (perElement * elementsSmall));
    return new RunMemory(fixed, perElement);
  }

  /** The estimated peak of a run fed {@code elements} input elements. */
  public long bytes(long elements) {
    double bytes = fixedBytes + bytesPerElement * elements;
    return bytes >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) bytes;
  }

  /** The most input elements a run may be fed within {@code limitBytes}. */
  long elementsWithin(long limitBytes) {
    if (bytesPerElement == 0) {
      return Long.MAX_VALUE;
    }
    return (long) Math.max(0, (limitBytes - fixedBytes) / bytesPerElement);
  }

  /** Input elements fed to a run: what its activations grow with. */
  static long elements(Map<String, TensorProto> inputs) {
    long elements = 0;
    for (TensorProto tensor : inputs.values()) {
      elements += TensorProtos.elementCount(tensor);
    }
    return elements;
  }

  /**
   * The most memory the run's own tensors held at once, replayed from its allocation records (the
   * weights, which outlive runs, are not among them). Needs a run traced with FULL_TRACE.
   */
  static long peakBytes(RunMetadata metadata) {
    List<AllocationRecord> records = new ArrayList<>();
    for (DeviceStepStats device : metadata.getStepStats().getDevStatsList()) {
      for (NodeExecStats node : device.getNodeStatsList()) {
        for (AllocatorMemoryUsed allocator : node.getMemoryList()) {
          records.addAll(allocator.getAllocationRecordsList());
        }
      }
    }
    // Frees before allocations within one microsecond: the clock cannot order them.
    records.sort((a, b) -> a.getAllocMicros() != b.getAllocMicros()
        ? Long.compare(a.getAllocMicros(), b.getAllocMicros()) : Long.compare(a.getAllocBytes(), b.getAllocBytes()));
    long live = 0;
    long peak = 0;
    for (AllocationRecord record : records) {
      live += record.getAllocBytes();
      peak = Math.max(peak, live);
    }
    return peak;
  }
}
