package io.infergate.app.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.infergate.common.ServableId;
import io.infergate.common.Signatures;
import io.infergate.common.TensorLimits;
import io.infergate.common.status.ServingException;
import io.infergate.gateway.grpc.OipTensors;
import io.infergate.gateway.json.ExampleJson;
import io.infergate.gateway.json.OpenInferenceJson;
import io.infergate.gateway.json.PredictJson;
import io.infergate.proto.oip.ModelInferRequest;
import io.infergate.proto.serving.ClassificationRequest;
import io.infergate.proto.serving.ClassificationResponse;
import io.infergate.proto.serving.ModelSpec;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.proto.serving.PredictResponse;
import io.infergate.proto.serving.RegressionRequest;
import io.infergate.proto.serving.RegressionResponse;
import io.infergate.worker.TestModels;
import io.infergate.worker.batching.TensorBatcher;
import io.infergate.worker.runtime.PreparedCall;
import io.infergate.worker.runtime.SavedModelServable;
import io.infergate.worker.runtime.SessionOptions;
import io.infergate.worker.runtime.SignatureRun;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tensorflow.proto.TensorProto;

/**
 * Coverage-guided fuzzing (Jazzer) of every way a request comes in: TF Serving's REST bodies
 * (predict, classify, regress), the Open Inference Protocol's infer body, and the gRPC messages
 * Predict and ModelInfer. Each input is decoded, checked as the gateway checks it, run by
 * TensorFlow on a real model alone and merged into a padded batch, and encoded back.
 *
 * <p>A finding is anything but an answer or a client error: another exception or status (a
 * 5xx), a hang (Jazzer's per-input timeout), or the JVM dying (TensorFlow aborts the process on
 * a failed CHECK). The first byte of an input picks the model; the rest is the request.
 *
 * <p>In the normal test run each target replays its seeds ({@code RequestFuzzTestInputs/} in
 * the test resources) and saved findings; the build then fuzzes each target for a short bounded
 * time, and {@code bin/fuzz} fuzzes for as long as it is told.
 */
class RequestFuzzTest {

  private static final Path SEEDS = Path.of(System.getProperty("infergate.root"),
      "app/src/test/resources/io/infergate/app/fuzz/RequestFuzzTestInputs");
  /** The gateway's default limit: as large as the largest gRPC message. */
  private static final TensorLimits GATEWAY = new TensorLimits(64L << 20);
  /** A batch of a fuzzed request and a copy of itself, as a batching server would merge them. */
  private static final int MAX_BATCH_ROWS = 64;

  @FuzzTest(maxDuration = "25s")
  @DictionaryEntries({"\"instances\"", "\"inputs\"", "\"signature_name\"", "{\"b64\": \"", "\"x\"", "\"a\"", "\"b\"",
      "\"ids\"", "\"counts\"", "\"words\"", "\"flags\"", "\"scale\"", "NaN", "-Infinity", "1e308",
      "9223372036854775808", "[[[[[[[[", "]]]]]]]]", "true", "null"})
  void restPredict(byte[] input) {
    answerRestPredict(input);
  }

  private static boolean answerRestPredict(byte[] input) {
    Model model = Models.pick(input);
    PredictJson.Body body = expected(() -> PredictJson.parse(rest(input)));
    if (body == null) {
      return false;
    }
    PredictRequest request = expected(() -> {
      PredictRequest.Builder built = PredictRequest.newBuilder().setModelSpec(model.spec());
      body.putInto(built, () -> Signatures.find(model.servable().signatures(), body.signatureName()));
      return built.build();
    });
    PredictResponse response = request == null ? null : predict(model, request);
    return response != null && expected(() -> PredictJson.write(response, body.rowFormat())) != null;
  }

  @FuzzTest(maxDuration = "25s")
  @DictionaryEntries({"\"inputs\"", "\"outputs\"", "\"name\"", "\"datatype\"", "\"shape\"", "\"data\"",
      "\"parameters\"", "\"signature_name\"", "\"id\"", "\"FP32\"", "\"FP64\"", "\"INT32\"", "\"INT64\"",
      "\"BOOL\"", "\"BYTES\"", "\"FP16\"", "\"x\"", "\"y\"", "\"ids\"", "\"words\"", "9223372036854775807"})
  void restOpenInference(byte[] input) {
    answerRestOpenInference(input);
  }

  private static boolean answerRestOpenInference(byte[] input) {
    Model model = Models.pick(input);
    OpenInferenceJson.InferRequest infer = expected(() -> OpenInferenceJson.parse(rest(input)));
    if (infer == null) {
      return false;
    }
    PredictRequest request = infer.request().setModelSpec(model.spec().toBuilder()
        .setSignatureName(infer.signatureName())).build();
    PredictResponse response = predict(model, request);
    return response != null && expected(() -> OpenInferenceJson.write(response, infer.id())) != null;
  }

  @FuzzTest(maxDuration = "25s")
  @DictionaryEntries({"\"examples\"", "\"context\"", "\"signature_name\"", "\"regress_x_to_y\"",
      "\"classify_x_to_y\"", "\"x\"", "{\"b64\": \"", "[1.5, 2]", "9223372036854775808"})
  void restClassifyAndRegress(byte[] input) {
    answerRestClassifyAndRegress(input);
  }

  /** Both classify and regress with the body (a signature serves one of them at most). */
  private static boolean answerRestClassifyAndRegress(byte[] input) {
    Model model = Models.pick(input);
    ExampleJson.Body body = expected(() -> ExampleJson.parse(rest(input)));
    if (body == null) {
      return false;
    }
    ModelSpec spec = model.spec().toBuilder().setSignatureName(body.signatureName()).build();
    ClassificationResponse classified = (ClassificationResponse) run(model,
        ClassificationRequest.newBuilder().setModelSpec(spec).setInput(body.input()).build());
    boolean answered = classified != null && expected(() -> ExampleJson.write(classified.getResult())) != null;
    RegressionResponse regressed = (RegressionResponse) run(model,
        RegressionRequest.newBuilder().setModelSpec(spec).setInput(body.input()).build());
    return answered | (regressed != null && expected(() -> ExampleJson.write(regressed.getResult())) != null);
  }

  @FuzzTest(maxDuration = "25s")
  void grpcPredict(byte[] input) {
    answerGrpcPredict(input);
  }

  private static boolean answerGrpcPredict(byte[] input) {
    Model model = Models.pick(input);
    PredictRequest request = parse(() -> PredictRequest.parseFrom(rest(input)));
    return request != null && predict(model, request.toBuilder().setModelSpec(model.spec().toBuilder()
        .setSignatureName(request.getModelSpec().getSignatureName())).build()) != null;
  }

  @FuzzTest(maxDuration = "25s")
  void grpcModelInfer(byte[] input) {
    answerGrpcModelInfer(input);
  }

  private static boolean answerGrpcModelInfer(byte[] input) {
    Model model = Models.pick(input);
    ModelInferRequest infer = parse(() -> ModelInferRequest.parseFrom(rest(input)));
    PredictRequest request = infer == null ? null : expected(() -> OipTensors.toPredict(infer));
    if (request == null) {
      return false;
    }
    PredictResponse response = predict(model, request.toBuilder().setModelSpec(model.spec().toBuilder()
        .setSignatureName(request.getModelSpec().getSignatureName())).build());
    return response != null && expected(() -> OipTensors.toInfer(response, infer.getId())) != null;
  }

  /** The seeds are valid requests, so fuzzing starts deep in the path: each must be answered. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("seeds")
  void everySeedIsAnswered(String seed) throws IOException {
    Path file = SEEDS.resolve(seed);
    byte[] input = Files.readAllBytes(file);
    Predicate<byte[]> target = switch (file.getParent().getFileName().toString()) {
      case "restPredict" -> RequestFuzzTest::answerRestPredict;
      case "restOpenInference" -> RequestFuzzTest::answerRestOpenInference;
      case "restClassifyAndRegress" -> RequestFuzzTest::answerRestClassifyAndRegress;
      case "grpcPredict" -> RequestFuzzTest::answerGrpcPredict;
      case "grpcModelInfer" -> RequestFuzzTest::answerGrpcModelInfer;
      default -> throw new AssertionError("No fuzz target for " + file);
    };
    assertThat(target.test(input)).as("answered").isTrue();
  }

  static Stream<String> seeds() throws IOException {
    try (Stream<Path> files = Files.walk(SEEDS)) {
      return files.filter(Files::isRegularFile).filter(f -> f.getFileName().toString().startsWith("seed-"))
          .map(f -> SEEDS.relativize(f).toString()).sorted().toList().stream();
    }
  }

  /** Checks the request as the gateway does, runs it alone and batched, and returns the lone answer (null if refused). */
  private static PredictResponse predict(Model model, PredictRequest request) {
    if (expected(() -> {
      request.getInputsMap().forEach(GATEWAY::check);
      return true;
    }) == null) {
      return null;
    }
    PredictResponse alone = (PredictResponse) run(model, request);
    if (alone != null) {
      expected(() -> runBatched(model, request, false));
      expected(() -> runBatched(model, request, true));
    }
    return alone;
  }

  private static Message run(Model model, Object request) {
    return expected(() -> model.servable().call(request));
  }

  /** The request merged with a copy of itself and a padding row, run, and split back, as BatchScheduler does. */
  private static Message runBatched(Model model, PredictRequest request, boolean padVariableLength) {
    PreparedCall call = model.servable().prepare(request);
    SignatureRun run = call.run();
    long rows = run.rows();
    if (rows > MAX_BATCH_ROWS / 2 - 1) {
      return null;
    }
    int padded = (int) rows * 2 + 1;
    SignatureRun merged = TensorBatcher.merge(List.of(run, run), padded, padVariableLength);
    Map<String, TensorProto> outputs = model.servable().run(merged);
    return call.finish(TensorBatcher.split(outputs, new long[] {rows, rows}, padded).get(0));
  }

  /** The request's bytes after the byte that picked the model. */
  private static byte[] rest(byte[] input) {
    return input.length == 0 ? input : Arrays.copyOfRange(input, 1, input.length);
  }

  private interface Step<T> {
    T get() throws Exception;
  }

  /** What a step returns, or null when it refused the input as a client error: any other failure is a finding. */
  private static <T> T expected(Step<T> step) {
    try {
      return step.get();
    } catch (ServingException e) {
      if (e.code().httpStatus() >= 500) {
        throw new AssertionError("Bad input answered " + e.code() + ": " + e.getMessage(), e);
      }
      if (e.getMessage() == null || e.getMessage().isBlank()) {
        throw new AssertionError("A refusal without a message: " + e.code(), e);
      }
      return null;
    } catch (RuntimeException e) {
      throw new AssertionError("Bad input escaped as " + e, e);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** A protobuf message, or null for bytes that are none (which the gRPC server answers INVALID_ARGUMENT). */
  private static <T> T parse(Step<T> step) {
    try {
      return step.get();
    } catch (InvalidProtocolBufferException e) {
      return null;
    } catch (Exception e) {
      throw new AssertionError("Parsing escaped as " + e, e);
    }
  }

  /** A loaded model and the spec that names it. */
  record Model(SavedModelServable servable, ModelSpec spec) {}

  /** The fuzzed models: TF Serving's half_plus_two (predict, classify, regress) and two exported here. */
  private static final class Models {
    private static final List<Model> ALL = load();

    static Model pick(byte[] input) {
      return ALL.get(input.length == 0 ? 0 : Math.floorMod(input[0], ALL.size()));
    }

    private static List<Model> load() {
      try {
        Path dir = Files.createTempDirectory("infergate-fuzz");
        return List.of(
            model("half_plus_two", TestModels.tfServing("saved_model_half_plus_two_cpu").resolve("00000123")),
            model("typed", TestModels.exportTyped(dir.resolve("typed")).resolve("1")),
            model("multi_io", TestModels.exportMultiIo(dir.resolve("multi_io")).resolve("1")));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    private static Model model(String name, Path version) {
      ServableId id = new ServableId(name, 1);
      return new Model(SavedModelServable.load(id, version, SessionOptions.DEFAULT),
          ModelSpec.newBuilder().setName(name).build());
    }
  }
}
