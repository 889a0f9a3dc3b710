package io.infergate.worker.runtime;

import io.infergate.common.SyntheticInputs;
import io.infergate.common.status.ServingException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.proto.SignatureDef;

/**
 * Refuses a run before it starts when its estimated peak memory passes the limit one run may
 * take. Without it, a valid request big enough can make TensorFlow ask for more memory than
 * there is, and an allocation that fails inside its oneDNN kernels kills the process (TF's own
 * kernels answer RESOURCE_EXHAUSTED; oneDNN's dereference the missing buffer).
 */
public final class RunMemoryGuard {

  /** No limit: nothing is measured or refused. */
  public static final RunMemoryGuard NONE = new RunMemoryGuard(0, Map.of(), Map.of());

  /**
   * Rows of the made-up inputs of the two measured runs: apart enough to see the growth, and few,
   * since the larger run's activations are allocated for real while a version loads.
   */
  private static final long SMALL_ROWS = 1;
  private static final long LARGE_ROWS = 4;
  private static final Logger LOG = LoggerFactory.getLogger(RunMemoryGuard.class);

  private final long limitBytes;
  private final Map<String, RunMemory> bySignature;
  /** Signatures made-up inputs could not run, with TensorFlow's reason: requests to them are not checked. */
  private final Map<String, String> unmeasured;

  RunMemoryGuard(long limitBytes, Map<String, RunMemory> bySignature, Map<String, String> unmeasured) {
    this.limitBytes = limitBytes;
    // In the signatures' order, for the load's log line.
    this.bySignature = Collections.unmodifiableMap(new LinkedHashMap<>(bySignature));
    this.unmeasured = Collections.unmodifiableMap(new LinkedHashMap<>(unmeasured));
  }

  /**
   * Measures each signature of a loaded servable that made-up inputs can run, with traced runs of
   * two sizes; the others are not guarded. Blocks for as long as TensorFlow takes.
   */
  static RunMemoryGuard measure(SavedModelServable servable, long limitBytes) {
    Map<String, RunMemory> bySignature = new LinkedHashMap<>();
    Map<String, String> unmeasured = new LinkedHashMap<>();
    servable.signatures().getSignatureDefMap().forEach((key, signature) -> {
      if (MethodNames.CLASSIFY.equals(signature.getMethodName()) || MethodNames.REGRESS.equals(signature.getMethodName())) {
        // Their tf.Examples need the model's features: made-up zeros would only fail (and make TF log it).
        unmeasured.put(key, "it reads tf.Examples");
        return;
      }
      try {
        SignatureRun small = syntheticRun(key, signature, SMALL_ROWS);
        SignatureRun large = syntheticRun(key, signature, LARGE_ROWS);
        if (small == null) {
          unmeasured.put(key, "no made-up input for its dtypes");
        } else {
          // Each shape's first run makes what TensorFlow then keeps (oneDNN's primitives and reordered
          // weights): the second of each is what every later run of that size takes.
          servable.peakBytes(small);
          servable.peakBytes(large);
          bySignature.put(key, RunMemory.fit(RunMemory.elements(small.inputs()), servable.peakBytes(small),
              RunMemory.elements(large.inputs()), servable.peakBytes(large)));
        }
      } catch (RuntimeException e) {
        unmeasured.put(key, String.valueOf(e.getMessage()));
      }
    });
    if (!unmeasured.isEmpty()) {
      LOG.debug("Signatures of {} not checked against the run memory limit, and why: {}", servable.id(), unmeasured);
    }
    return new RunMemoryGuard(limitBytes, bySignature, unmeasured);
  }

  private static SignatureRun syntheticRun(String key, SignatureDef signature, long rows) {
    return SyntheticInputs.tensors(signature, rows)
        .map(inputs -> new SignatureRun(key, signature, inputs, List.copyOf(signature.getOutputsMap().keySet())))
        .orElse(null);
  }

  /** Throws INVALID_ARGUMENT when the run would pass the limit: it never fits, so a retry would not help. */
  void check(SavedModelServable servable, SignatureRun run) {
    RunMemory memory = bySignature.get(run.signatureKey());
    if (memory == null) {
      return;
    }
    long elements = RunMemory.elements(run.inputs());
    long bytes = memory.bytes(elements);
    if (bytes > limitBytes) {
      throw ServingException.invalidArgument("A run of " + servable.id() + " (signature " + run.signatureKey()
          + ") fed " + elements + " input elements would take an estimated " + bytes
          + " bytes, more than the " + limitBytes + " one run may take on this worker (--run_memory_limit_bytes); "
          + "send fewer rows per request");
    }
  }

  /**
   * How many rows shaped as {@code run}'s fit in one run: what a batch of such calls may hold.
   * Long.MAX_VALUE when unguarded.
   */
  long rowsPerRun(SignatureRun run) {
    RunMemory memory = bySignature.get(run.signatureKey());
    long rows = run.rows();
    if (memory == null || rows <= 0) {
      return Long.MAX_VALUE;
    }
    long elementsPerRow = Math.max(1, RunMemory.elements(run.inputs()) / rows);
    return memory.elementsWithin(limitBytes) / elementsPerRow;
  }

  /** For the load's log line. */
  String describe() {
    if (limitBytes <= 0) {
      return "run memory unguarded";
    }
    StringBuilder text = new StringBuilder("one run may take ").append(limitBytes).append(" bytes");
    bySignature.forEach((key, memory) -> text.append("; ").append(key).append(": ").append(memory.fixedBytes())
        .append(" + ").append(Math.round(memory.bytesPerElement())).append(" per input element"));
    if (!unmeasured.isEmpty()) {
      text.append("; not checked, as made-up inputs do not run them: ").append(unmeasured.keySet());
    }
    return text.toString();
  }

  Map<String, RunMemory> measured() {
    return bySignature;
  }
}
