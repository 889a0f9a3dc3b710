package io.infergate.worker.batching;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Int64Value;
import io.infergate.common.Priority;
import io.infergate.common.ServableId;
import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.infergate.proto.serving.BatchingParameters;
import io.infergate.worker.TestModels;
import io.infergate.worker.runtime.SavedModelServable;
import io.infergate.worker.runtime.SessionOptions;
import io.infergate.worker.runtime.SignatureRun;
import io.infergate.worker.runtime.TensorProtos;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * The batching contract. Where a test needs requests to pile up, a latch holds the only
 * execution slot, which is exactly what load does; no test sleeps.
 */
class BatchSchedulerTest {

  static SavedModelServable halfPlusTwo;
  static SignatureDef signature;
  final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  BatchScheduler scheduler;

  @BeforeAll
  static void load() {
    halfPlusTwo = SavedModelServable.load(new ServableId("half_plus_two", 123),
        TestModels.tfServing("saved_model_half_plus_two_cpu").resolve("00000123"), SessionOptions.DEFAULT);
    signature = halfPlusTwo.signatures().getSignatureDefOrThrow("serving_default");
  }

  @AfterAll
  static void unload() {
    halfPlusTwo.close();
  }

  @AfterEach
  void stop() throws Exception {
    if (scheduler != null) {
      scheduler.close().get(30, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  @Test
  void mergesConcurrentRequestsAndSplitsTheOutputsBack() throws Exception {
    scheduler = new BatchScheduler(2, meters);
    BatchQueue queue = scheduler.addQueue(id("hp", 1), config(64, 2_000, 100, List.of()), halfPlusTwo::run);
    ExecutorService clients = Executors.newFixedThreadPool(8);
    List<CompletableFuture<Map<String, TensorProto>>> results = new ArrayList<>();
    List<float[]> inputs = new ArrayList<>();
    try {
      List<CompletableFuture<CompletableFuture<Map<String, TensorProto>>>> submitted = new ArrayList<>();
      for (int i = 0; i < 400; i++) {
        float[] x = new float[1 + i % 4];
        for (int j = 0; j < x.length; j++) {
          x[j] = i * 10 + j;
        }
        inputs.add(x);
        submitted.add(CompletableFuture.supplyAsync(() -> queue.submit(run(x), far(), Priority.NORMAL), clients));
      }
      for (var submission : submitted) {
        results.add(submission.get(30, TimeUnit.SECONDS));
      }
      for (int i = 0; i < results.size(); i++) {
        float[] y = floats(results.get(i).get(30, TimeUnit.SECONDS).get("y"));
        float[] x = inputs.get(i);
        assertThat(y).hasSize(x.length);
        for (int j = 0; j < x.length; j++) {
          assertThat(y[j]).isEqualTo(0.5f * x[j] + 2);
        }
      }
    } finally {
      clients.shutdownNow();
    }
    assertThat(meters.get("infergate.batch.inferences").counter().count()).isEqualTo(400);
    assertThat(meters.get("infergate.batch.executions").counter().count()).isLessThanOrEqualTo(400);
  }

  @Test
  void batchesGrowWhileEveryExecutionSlotIsBusy() throws Exception {
    scheduler = new BatchScheduler(1, meters);
    Gate gate = new Gate();
    BatchQueue queue = scheduler.addQueue(id("hp", 1), config(16, 0, 100, List.of()), gate.around(halfPlusTwo::run));
    var first = queue.submit(run(1f), far(), Priority.NORMAL);
    gate.awaitRunning();
    List<CompletableFuture<Map<String, TensorProto>>> waiting = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      waiting.add(queue.submit(run(i), far(), Priority.NORMAL));
    }
    gate.release();
    first.get(10, TimeUnit.SECONDS);
    for (int i = 0; i < 5; i++) {
      assertThat(floats(waiting.get(i).get(10, TimeUnit.SECONDS).get("y"))).containsExactly(0.5f * i + 2);
    }
    assertThat(gate.batchRows).containsExactly(1L, 5L);
    assertThat(meters.get("infergate.batch.executions").counter().count()).isEqualTo(2);
  }

  @Test
  void aBatchHoldsNoMoreRowsThanTheServableTakesInOneRun() throws Exception {
    scheduler = new BatchScheduler(1, meters);
    Gate gate = new Gate();
    BatchRunner threeRowsAtOnce = new BatchRunner() {
      @Override
      public Map<String, TensorProto> run(SignatureRun batch) {
        return halfPlusTwo.run(batch);
      }

      @Override
      public long rowsPerRun(SignatureRun call) {
        return 3;
      }
    };
    BatchQueue queue = scheduler.addQueue(id("hp", 1), config(16, 0, 100, List.of()), gate.around(threeRowsAtOnce));
    var first = queue.submit(run(1f), far(), Priority.NORMAL);
    gate.awaitRunning();
    List<CompletableFuture<Map<String, TensorProto>>> waiting = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      waiting.add(queue.submit(run(i), far(), Priority.NORMAL));
    }
    gate.release();
    first.get(10, TimeUnit.SECONDS);
    for (int i = 0; i < 7; i++) {
      assertThat(floats(waiting.get(i).get(10, TimeUnit.SECONDS).get("y"))).containsExactly(0.5f * i + 2);
    }
    assertThat(gate.batchRows).containsExactly(1L, 3L, 3L, 1L);
  }

  @Test
  void theTimeoutBoundsHowLongAPartialBatchWaits() throws Exception {
    scheduler = new BatchScheduler(1, meters);
    BatchQueue queue = scheduler.addQueue(id("hp", 1), config(1000, 100_000, 10, List.of()), halfPlusTwo::run);
    long started = System.nanoTime();
    assertThat(floats(queue.submit(run(4f), far(), Priority.NORMAL).get(10, TimeUnit.SECONDS).get("y"))).containsExactly(4f);
    long waitedMillis = (System.nanoTime() - started) / 1_000_000;
    assertThat(waitedMillis).as("waited for the 100 ms batch timeout, then ran").isBetween(95L, 2_000L);
  }

  @Test
  void aFullBatchRunsWithoutWaitingForTheTimeout() throws Exception {
    scheduler = new BatchScheduler(1, meters);
    BatchQueue queue = scheduler.addQueue(id("hp", 1), config(2, 60_000_000, 10, List.of()), halfPlusTwo::run);
    assertThat(floats(queue.submit(run(1f, 2f), far(), Priority.NORMAL).get(10, TimeUnit.SECONDS).get("y"))).containsExactly(2.5f, 3f);
  }

  @Test
  void aFullQueueRejectsAtOnceWithUnavailable() throws Exception {
    scheduler = new BatchScheduler(1, meters);
    Gate gate = new Gate();
    BatchQueue queue = scheduler.addQueue(id("hp", 1), config(2, 0, 1, List.of()), gate.around(halfPlusTwo::run));
    var running = queue.submit(run(1f), far(), Priority.NORMAL);
    gate.awaitRunning();
    var queued = queue.submit(run(2f, 3f), far(), Priority.NORMAL);
    var rejected = queue.submit(run(4f), far(), Priority.NORMAL);
    assertStatus(rejected, StatusCode.UNAVAILABLE, "queue to which this task was submitted is full");
    gate.release();
    assertThat(floats(queued.get(10, TimeUnit.SECONDS).get("y"))).containsExactly(3f, 3.5f);
    running.get(10, TimeUnit.SECONDS);
    assertThat(meters.get("infergate.batch.rejected").counter().count()).isEqualTo(1);
  }

  @Test
  void higherPrioritiesRunFirstAcrossServables() throws Exception {
    scheduler = new BatchScheduler(1, meters);
    Gate gate = new Gate();
    List<String> seen = new CopyOnWriteArrayList<>();
    BatchQueue a = scheduler.addQueue(id("a", 1), config(100, 0, 10, List.of()),
        gate.around(run -> record(seen, "a", run)));
    BatchQueue b = scheduler.addQueue(id("b", 1), config(100, 0, 10, List.of()), run -> record(seen, "b", run));
    var blocker = a.submit(run(0f), far(), Priority.NORMAL);
    gate.awaitRunning();
    List<CompletableFuture<Map<String, TensorProto>>> all = new ArrayList<>();
    all.add(a.submit(run(3f), far(), Priority.LOW));
    all.add(a.submit(run(2f), far(), Priority.NORMAL));
    all.add(b.submit(run(1f), far(), Priority.HIGH));
    all.add(a.submit(run(3f), far(), Priority.LOW));
    all.add(a.submit(run(1f), far(), Priority.HIGH));
    gate.release();
    blocker.get(10, TimeUnit.SECONDS);
    for (var result : all) {
      result.get(10, TimeUnit.SECONDS);
    }
    // One batch per priority and servable; the two high ones before the normal, the low last.
    assertThat(seen).hasSize(5);
    assertThat(seen.subList(1, 3)).containsExactlyInAnyOrder("b:serving_default:[1.0]", "a:serving_default:[1.0]");
    assertThat(seen.subList(3, 5)).containsExactly("a:serving_default:[2.0]", "a:serving_default:[3.0, 3.0]");
  }

  @Test
  void aFullQueueShedsItsNewestLowerPriorityBatchForAHigherOne() throws Exception {
    scheduler = new BatchScheduler(1, meters);
    Gate gate = new Gate();
    BatchQueue queue = scheduler.addQueue(id("hp", 1), config(1, 0, 2, List.of()), gate.around(halfPlusTwo::run));
    var running = queue.submit(run(0f), far(), Priority.NORMAL);
    gate.awaitRunning();
    var low = queue.submit(run(1f), far(), Priority.LOW);
    var normal = queue.submit(run(2f), far(), Priority.NORMAL);
    var high = queue.submit(run(4f), far(), Priority.HIGH);
    var anotherLow = queue.submit(run(5f), far(), Priority.LOW);
    assertStatus(low, StatusCode.UNAVAILABLE, "higher-priority");
    assertStatus(anotherLow, StatusCode.UNAVAILABLE, "queue to which this task was submitted is full");
    var secondHigh = queue.submit(run(6f), far(), Priority.HIGH);
    assertStatus(normal, StatusCode.UNAVAILABLE, "higher-priority");
    gate.release();
    assertThat(floats(high.get(10, TimeUnit.SECONDS).get("y"))).containsExactly(4f);
    assertThat(floats(secondHigh.get(10, TimeUnit.SECONDS).get("y"))).containsExactly(5f);
    running.get(10, TimeUnit.SECONDS);
    assertThat(meters.get("infergate.batch.shed").tag("priority", "low").tag("reason", "preempted").counter().count())
        .isEqualTo(1);
    assertThat(meters.get("infergate.batch.shed").tag("priority", "normal").counter().count()).isEqualTo(1);
  }

  @Test
  void aLatencyTargetRefusesWhatCouldNotRunInTimeAndSetsTheTimeout() throws Exception {
    scheduler = new BatchScheduler(1, meters);
    // Every batch takes 20 ms: with a 50 ms target, about two batches' worth may wait ahead.
    BatchQueue queue = scheduler.addQueue(id("hp", 1), config(1, 1_000_000, 100, List.of()).withLatencyTarget(50_000),
        run -> {
          try {
            Thread.sleep(20);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return halfPlusTwo.run(run);
        });
    // The configured 1 s timeout is not used: the tuner starts at no wait.
    assertThat(floats(queue.submit(run(2f), far(), Priority.NORMAL).get(10, TimeUnit.SECONDS).get("y")))
        .containsExactly(3f);
    List<CompletableFuture<Map<String, TensorProto>>> burst = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      burst.add(queue.submit(run(1f), far(), Priority.NORMAL));
    }
    int refused = 0;
    for (var result : burst) {
      try {
        result.get(10, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        assertThat(e.getCause()).isInstanceOfSatisfying(ServingException.class, status -> {
          assertThat(status.code()).isEqualTo(StatusCode.UNAVAILABLE);
          assertThat(status.getMessage()).contains("latency target");
        });
        refused++;
      }
    }
    assertThat(refused).isBetween(6, 9);
    assertThat(meters.get("infergate.batch.shed").tag("reason", "latency_target").counter().count()).isEqualTo(refused);
    assertThat(meters.get("infergate.batch.tuned.timeout").gauge().value()).isZero();
    assertThat(meters.get("infergate.batch.tuned.size").gauge().value()).isEqualTo(1);
  }

  @Test
  void padsToTheNextAllowedBatchSizeAndDropsThePadding() throws Exception {
    scheduler = new BatchScheduler(1, meters);
    Gate gate = new Gate();
    BatchQueue queue = scheduler.addQueue(id("hp", 1), config(8, 0, 10, List.of(2, 4, 8)), gate.around(halfPlusTwo::run));
    var first = queue.submit(run(0f), far(), Priority.NORMAL);
    gate.awaitRunning();
    var a = queue.submit(run(1f), far(), Priority.NORMAL);
    var b = queue.submit(run(2f, 3f), far(), Priority.NORMAL);
    gate.release();
    assertThat(floats(a.get(10, TimeUnit.SECONDS).get("y"))).containsExactly(2.5f);
    assertThat(floats(b.get(10, TimeUnit.SECONDS).get("y"))).containsExactly(3f, 3.5f);
    assertThat(floats(first.get(10, TimeUnit.SECONDS).get("y"))).containsExactly(2f);
    assertThat(gate.batchRows).containsExactly(2L, 4L);
    assertThat(meters.get("infergate.batch.padding").summary().totalAmount()).isEqualTo(1 + 1);
  }

  @Test
  void neverMixesServablesOrSignatures() throws Exception {
    scheduler = new BatchScheduler(1, meters);
    Gate gate = new Gate();
    List<String> seen = new CopyOnWriteArrayList<>();
    BatchQueue a = scheduler.addQueue(id("a", 1), config(100, 0, 10, List.of()),
        gate.around(run -> record(seen, "a", run)));
    BatchQueue b = scheduler.addQueue(id("b", 1), config(100, 0, 10, List.of()), run -> record(seen, "b", run));
    var blocker = a.submit(run(0f), far(), Priority.NORMAL);
    gate.awaitRunning();
    List<CompletableFuture<Map<String, TensorProto>>> all = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      all.add(a.submit(run(1f), far(), Priority.NORMAL));
      all.add(b.submit(run(2f), far(), Priority.NORMAL));
      all.add(a.submit(run("other_signature", 3f), far(), Priority.NORMAL));
    }
    gate.release();
    blocker.get(10, TimeUnit.SECONDS);
    for (var result : all) {
      result.get(10, TimeUnit.SECONDS);
    }
    assertThat(seen).containsExactlyInAnyOrder("a:serving_default:[0.0]", "a:serving_default:[1.0, 1.0, 1.0]",
        "b:serving_default:[2.0, 2.0, 2.0]", "a:other_signature:[3.0, 3.0, 3.0]");
  }

  @Test
  void dropsRequestsWhoseDeadlinePassedBeforeTheyRan() throws Exception {
    scheduler = new BatchScheduler(1, meters);
    Gate gate = new Gate();
    BatchQueue queue = scheduler.addQueue(id("hp", 1), config(10, 0, 10, List.of()), gate.around(halfPlusTwo::run));
    var first = queue.submit(run(0f), far(), Priority.NORMAL);
    gate.awaitRunning();
    var expired = queue.submit(run(1f), System.nanoTime() - 1, Priority.NORMAL);
    var alive = queue.submit(run(2f), far(), Priority.NORMAL);
    gate.release();
    assertStatus(expired, StatusCode.DEADLINE_EXCEEDED, "Deadline exceeded");
    assertThat(floats(alive.get(10, TimeUnit.SECONDS).get("y"))).containsExactly(3f);
    first.get(10, TimeUnit.SECONDS);
    assertThat(gate.batchRows).containsExactly(1L, 1L);
    assertThat(meters.get("infergate.batch.expired").counter().count()).isEqualTo(1);
  }

  @Test
  void rejectsARequestLargerThanTheMaximumBatch() {
    scheduler = new BatchScheduler(1, meters);
    BatchQueue queue = scheduler.addQueue(id("hp", 1), config(2, 0, 10, List.of()), halfPlusTwo::run);
    assertStatus(queue.submit(run(1f, 2f, 3f), far(), Priority.NORMAL), StatusCode.INVALID_ARGUMENT,
        "Task size 3 is larger than maximum batch size 2");
  }

  @Test
  void closingDrainsWhatIsQueued() throws Exception {
    scheduler = new BatchScheduler(1, meters);
    Gate gate = new Gate();
    BatchQueue queue = scheduler.addQueue(id("hp", 1), config(10, 60_000_000, 10, List.of()),
        gate.around(halfPlusTwo::run));
    var queued = queue.submit(run(6f), far(), Priority.NORMAL);
    CompletableFuture<Void> drained = queue.close();
    gate.awaitRunning();
    assertThat(drained).isNotDone();
    gate.release();
    drained.get(10, TimeUnit.SECONDS);
    assertThat(floats(queued.get(10, TimeUnit.SECONDS).get("y"))).containsExactly(5f);
    assertStatus(queue.submit(run(1f), far(), Priority.NORMAL), StatusCode.UNAVAILABLE, "unloading");
  }

  @Test
  void padsVariableLengthInputsWhenAsked() {
    TensorProto shortRow = ints(new long[] {1, 2}, 1, 2);
    TensorProto longRow = ints(new long[] {3, 4, 5}, 1, 3);
    SignatureRun merged = TensorBatcher.merge(List.of(runOf("ids", shortRow), runOf("ids", longRow)), 2, true);
    TensorProto ids = merged.inputs().get("ids");
    assertThat(TensorProtos.dims(ids)).containsExactly(2, 3);
    ByteBuffer values = ids.getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    long[] flat = new long[6];
    for (int i = 0; i < 6; i++) {
      flat[i] = values.getLong();
    }
    assertThat(flat).containsExactly(1, 2, 0, 3, 4, 5);
  }

  /** Holds the execution slot: the first batch blocks until released, later ones run freely. */
  static final class Gate {
    final CountDownLatch running = new CountDownLatch(1);
    final CountDownLatch released = new CountDownLatch(1);
    final List<Long> batchRows = new CopyOnWriteArrayList<>();

    BatchRunner around(BatchRunner runner) {
      return new BatchRunner() {
        @Override
        public Map<String, TensorProto> run(SignatureRun run) {
          batchRows.add(run.rows());
          running.countDown();
          try {
            released.await(30, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return runner.run(run);
        }

        @Override
        public long rowsPerRun(SignatureRun call) {
          return runner.rowsPerRun(call);
        }
      };
    }

    void awaitRunning() throws InterruptedException {
      assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
    }

    void release() {
      released.countDown();
    }
  }

  static Map<String, TensorProto> record(List<String> seen, String servable, SignatureRun run) {
    float[] x = floats(run.inputs().get("x"));
    List<Float> values = new ArrayList<>();
    for (float v : x) {
      values.add(v);
    }
    seen.add(servable + ":" + run.signatureKey() + ":" + values);
    return Map.of("y", run.inputs().get("x"));
  }

  static void assertStatus(CompletableFuture<?> future, StatusCode code, String message) {
    assertThatThrownBy(() -> future.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
        .cause().isInstanceOfSatisfying(ServingException.class, e -> {
          assertThat(e.code()).isEqualTo(code);
          assertThat(e.getMessage()).contains(message);
        });
  }

  static BatchConfig config(int maxBatch, long timeoutMicros, int maxEnqueued, List<Integer> allowed) {
    BatchingParameters.Builder parameters = BatchingParameters.newBuilder()
        .setMaxBatchSize(Int64Value.of(maxBatch))
        .setBatchTimeoutMicros(Int64Value.of(timeoutMicros))
        .setMaxEnqueuedBatches(Int64Value.of(maxEnqueued));
    allowed.forEach(size -> parameters.addAllowedBatchSizes(size));
    return BatchConfig.of(parameters.build(), 1);
  }

  static ServableId id(String name, long version) {
    return new ServableId(name, version);
  }

  static long far() {
    return System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
  }

  static SignatureRun run(float... x) {
    return run("serving_default", x);
  }

  static SignatureRun run(String signatureKey, float... x) {
    return new SignatureRun(signatureKey, signature, Map.of("x", floatTensor(x)), List.of("y"));
  }

  static SignatureRun runOf(String input, TensorProto tensor) {
    return new SignatureRun("serving_default", signature, Map.of(input, tensor), List.of("y"));
  }

  static TensorProto floatTensor(float... values) {
    ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      bytes.putFloat(v);
    }
    return TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
        .setTensorShape(TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(values.length)))
        .setTensorContent(com.google.protobuf.ByteString.copyFrom(bytes.array())).build();
  }

  static TensorProto ints(long[] values, long... dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (long d : dims) {
      shape.addDimBuilder().setSize(d);
    }
    TensorProto.Builder tensor = TensorProto.newBuilder().setDtype(DataType.DT_INT64).setTensorShape(shape);
    for (long v : values) {
      tensor.addInt64Val(v);
    }
    return tensor.build();
  }

  static float[] floats(TensorProto tensor) {
    var buffer = TensorProtos.canonical(tensor).getTensorContent().asReadOnlyByteBuffer()
        .order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    float[] values = new float[buffer.remaining()];
    buffer.get(values);
    return values;
  }
}
