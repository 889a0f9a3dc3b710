package io.infergate.worker.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.infergate.common.ServableId;
import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.worker.TestModels;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/** The run memory limit on a real model whose activations grow with its batch: measured at load, enforced per run. */
class RunMemoryGuardTest {

  private static final int WIDTH = 4096;
  /** Each row of two input elements makes at least WIDTH floats of activations. */
  private static final double LEAST_BYTES_PER_ELEMENT = WIDTH * 4 / 2.0;
  private static final long LIMIT = 4L << 20;

  @TempDir
  static Path dir;
  private static LoadedModel guarded;

  @BeforeAll
  static void load() throws Exception {
    Path version = TestModels.exportWide(dir.resolve("wide"), WIDTH).resolve("1");
    SavedModelOptions options = new SavedModelOptions(SessionOptions.DEFAULT, true, 1, false, LIMIT);
    guarded = new SavedModelLoader(options).load(new ServableId("wide", 1), version);
  }

  @AfterAll
  static void close() {
    guarded.close();
  }

  @Test
  void aSignaturesMemoryIsMeasuredAtLoadAsItGrowsWithTheInput() {
    RunMemory memory = guarded.servable().memoryGuard().measured().get("serving_default");
    assertThat(memory.bytesPerElement()).isBetween(LEAST_BYTES_PER_ELEMENT, 4 * LEAST_BYTES_PER_ELEMENT);
    assertThat(memory.fixedBytes()).isLessThan(1L << 20);
    assertThat(guarded.describe()).contains("one run may take " + LIMIT + " bytes; serving_default: ");
  }

  @Test
  void aRequestWithinTheLimitRunsAndOnePastItIsRefusedBeforeItRuns() {
    assertThat(SavedModelServableTest.floatValues(guarded.servable().predict(request(8)).getOutputsOrThrow("y")))
        .hasSize(8).containsOnly((float) WIDTH);
    // 10,000 rows would need at least 80 MB of activations: 20 times the limit.
    assertThatThrownBy(() -> guarded.servable().predict(request(10_000)))
        .isInstanceOfSatisfying(ServingException.class, e -> {
          assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
          assertThat(e.getMessage()).contains("wide:1", "20000 input elements", "--run_memory_limit_bytes",
              "send fewer rows");
        });
    SignatureRun tooLarge = run(10_000);
    assertThatThrownBy(() -> guarded.servable().run(tooLarge))
        .as("a run reaching TensorFlow past the limit (a padded batch) is refused too")
        .isInstanceOf(ServingException.class).hasMessageContaining("--run_memory_limit_bytes");
  }

  @Test
  void batchesHoldNoMoreRowsOfAShapeThanFitInOneRun() {
    long rows = guarded.servable().rowsPerRun(run(1));
    assertThat(rows).isBetween((long) (LIMIT / (4 * LEAST_BYTES_PER_ELEMENT * 2)),
        (long) (LIMIT / (LEAST_BYTES_PER_ELEMENT * 2)));
    assertThat(guarded.servable().predict(request((int) rows)).getOutputsOrThrow("y")
        .getTensorShape().getDim(0).getSize()).isEqualTo(rows);
    assertThatThrownBy(() -> guarded.servable().predict(request((int) rows + 1)))
        .hasMessageContaining("--run_memory_limit_bytes");
  }

  @Test
  void signaturesThatReadExamplesAreNamedAsNotChecked() throws Exception {
    Path version = TestModels.tfServing("saved_model_half_plus_two_cpu").resolve("00000123");
    SavedModelOptions options = new SavedModelOptions(SessionOptions.DEFAULT, true, 1, false, LIMIT);
    try (LoadedModel loaded = new SavedModelLoader(options).load(new ServableId("hp", 123), version)) {
      assertThat(loaded.servable().memoryGuard().measured()).containsKey("serving_default")
          .doesNotContainKeys("classify_x_to_y", "regress_x_to_y", "regress_x_to_y2");
      assertThat(loaded.describe()).contains("not checked, as made-up inputs do not run them: ",
          "classify_x_to_y", "regress_x_to_y2");
    }
  }

  @Test
  void withoutALimitNothingIsMeasuredOrRefused() throws Exception {
    Path version = dir.resolve("wide/1");
    try (LoadedModel unguarded = new SavedModelLoader(SavedModelOptions.DEFAULT).load(new ServableId("wide", 1), version)) {
      assertThat(unguarded.servable().memoryGuard().measured()).isEmpty();
      assertThat(unguarded.describe()).contains("run memory unguarded");
      assertThat(SavedModelServableTest.floatValues(unguarded.servable().predict(request(2_000))
          .getOutputsOrThrow("y"))).hasSize(2_000);
    }
  }

  private static SignatureRun run(int rows) {
    return new SignatureRun("serving_default",
        guarded.servable().signatures().getSignatureDefOrThrow("serving_default"), request(rows).getInputsMap(),
        List.of("y"));
  }

  private static PredictRequest request(int rows) {
    TensorProto x = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
        .setTensorShape(TensorShapeProto.newBuilder().addDim(dim(rows)).addDim(dim(2)))
        .addFloatVal(1f).build();
    return PredictRequest.newBuilder().putAllInputs(Map.of("x", x)).build();
  }

  private static TensorShapeProto.Dim dim(long size) {
    return TensorShapeProto.Dim.newBuilder().setSize(size).build();
  }
}
