package io.infergate.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.infergate.netlab.NetworkLab;
import io.infergate.proto.serving.ModelSpec;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.proto.serving.PredictResponse;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;
import tools.jackson.databind.JsonNode;

/**
 * The arm64 image of the multi-platform image (k8s/image/multiarch.sh) on this machine under
 * emulation: pulled for arm64 as a runtime on an arm64 node would, its JRE and TensorFlow's arm64
 * natives run by qemu's user-mode emulator (registered with binfmt_misc), `serve` on TF Serving's
 * half_plus_two model in a network namespace of its own, answering a REST and a gRPC predict.
 *
 * <p>Runs with {@code -Dinfergate.arm64=required}, as bin/arm64-check runs it after building the
 * image (so a stale image is never what passes); it then fails if anything it needs is missing:
 * root, skopeo, umoci, qemu-user-static.
 */
class Arm64ImageTest {

  private static final Path IMAGE = Manifests.ROOT.resolve("app/target/infergate-multiarch.tar");
  private static final Path DIR = Manifests.ROOT.resolve("k8s-test/target/arm64");
  private static final Path MODEL = Manifests.ROOT.resolve("../shared/testdata/tfserving/saved_model_half_plus_two_cpu")
      .normalize();
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  /** Long enough for a JVM and TensorFlow under emulation (about half a minute on 2 cores). */
  private static final Duration START_TIMEOUT = Duration.ofMinutes(5);

  static NetworkLab lab;
  static ImageBundle image;
  static String address;
  static Process server;
  static Path log;

  @BeforeAll
  static void startServeFromTheArm64Image() throws Exception {
    Assumptions.assumeTrue("required".equals(System.getProperty("infergate.arm64")),
        "the arm64 image is checked by bin/arm64-check");
    List<String> missing = new ArrayList<>();
    if (!Files.isRegularFile(IMAGE)) {
      missing.add(IMAGE + " (build with k8s/image/multiarch.sh)");
    }
    if (!NetworkLab.available()) {
      missing.add("root and iproute2");
    }
    if (!System.getProperty("os.arch").equals("aarch64") && !Files.exists(Path.of("/proc/sys/fs/binfmt_misc/qemu-aarch64"))) {
      missing.add("qemu's AArch64 emulator registered with binfmt_misc (k8s/image/qemu-binfmt.sh)");
    }
    for (String tool : List.of("skopeo", "umoci")) {
      if (new ProcessBuilder("sh", "-c", "command -v " + tool).start().waitFor() != 0) {
        missing.add(tool);
      }
    }
    assertThat(missing).as("what running the arm64 image needs").isEmpty();

    image = ImageBundle.unpack(IMAGE, System.getProperty("infergate.version"), "arm64", DIR.resolve("image"));
    lab = new NetworkLab();
    address = lab.host("edge");
    log = DIR.resolve("serve.log");
    server = ContainerProcess.start(lab, "edge", image,
        List.of(ContainerProcess.Mount.tmpfs("/tmp"), new ContainerProcess.Mount(MODEL, "/models/half_plus_two", true)),
        List.of(), List.of("serve", "--model_name=half_plus_two", "--model_base_path=/models/half_plus_two"), log);
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (status("/v1/models/half_plus_two") != 200) {
      assertThat(server.isAlive()).as("serve exited:\n" + logText()).isTrue();
      assertThat(System.nanoTime()).as("serve did not load the model:\n" + logText()).isLessThan(deadline);
      Thread.sleep(500);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    if (lab != null) {
      lab.close();
    }
  }

  @Test
  void theImageIsArm64ThroughAndThrough() throws Exception {
    assertThat(image.architecture()).isEqualTo("arm64");
    try (Stream<Path> jars = Files.list(image.rootfs().resolve("app/libs"))) {
      assertThat(jars.map(jar -> jar.getFileName().toString()).filter(name -> name.startsWith("tensorflow-core-native-")))
          .as("TensorFlow's natives in the image").anyMatch(name -> name.endsWith("-linux-arm64.jar"))
          .noneMatch(name -> name.contains("x86_64"));
    }
    // The JVM serving is an AArch64 program that this x86-64 kernel runs through qemu (binfmt_misc).
    Path java = image.rootfs().resolve(Path.of("/").relativize(realJava()));
    assertThat(elfMachine(java)).as(java + "'s ELF machine").isEqualTo(0xB7);
    if (!System.getProperty("os.arch").equals("aarch64")) {
      assertThat(Files.readSymbolicLink(Path.of("/proc", Long.toString(server.pid()), "exe")).toString())
          .as("the server process's program").contains("aarch64");
    }
  }

  @Test
  void answersARestPredict() throws Exception {
    HttpResponse<String> answer = HTTP.send(HttpRequest.newBuilder(
            URI.create("http://" + address + ":8501/v1/models/half_plus_two:predict"))
        .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString("{\"instances\": [1.0, 2.0, 5.0]}"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    JsonNode predictions = StrictModel.MAPPER.readTree(answer.body()).path("predictions");
    assertThat(List.of(predictions.get(0).asDouble(), predictions.get(1).asDouble(), predictions.get(2).asDouble()))
        .containsExactly(2.5, 3.0, 4.5);
  }

  @Test
  void answersAGrpcPredict() throws Exception {
    MethodDescriptor<PredictRequest, PredictResponse> predict = MethodDescriptor.<PredictRequest, PredictResponse>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName("tensorflow.serving.PredictionService/Predict")
        .setRequestMarshaller(ProtoUtils.marshaller(PredictRequest.getDefaultInstance()))
        .setResponseMarshaller(ProtoUtils.marshaller(PredictResponse.getDefaultInstance()))
        .build();
    PredictRequest request = PredictRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("half_plus_two"))
        .putInputs("x", TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
            .setTensorShape(TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(3)))
            .addFloatVal(1f).addFloatVal(2f).addFloatVal(5f).build())
        .build();
    ManagedChannel channel = ManagedChannelBuilder.forAddress(address, 8500).usePlaintext().build();
    try {
      PredictResponse response = ClientCalls.blockingUnaryCall(channel, predict,
          CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), request);
      assertThat(floats(response.getOutputsOrThrow("y"))).containsExactly(2.5f, 3.0f, 4.5f);
      assertThat(response.getModelSpec().getVersion().getValue()).isEqualTo(123);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** A float tensor's values, from float_val or (as TF Serving answers too) tensor_content. */
  private static float[] floats(TensorProto tensor) {
    if (tensor.getFloatValCount() > 0) {
      float[] values = new float[tensor.getFloatValCount()];
      for (int i = 0; i < values.length; i++) {
        values[i] = tensor.getFloatVal(i);
      }
      return values;
    }
    FloatBuffer content = tensor.getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    float[] values = new float[content.remaining()];
    content.get(values);
    return values;
  }

  /** The image's java, through the alternatives' links, as a path inside the image. */
  private static Path realJava() throws IOException {
    Path inImage = Path.of("/usr/bin/java");
    for (int hops = 0; hops < 8 && Files.isSymbolicLink(image.rootfs().resolve(Path.of("/").relativize(inImage))); hops++) {
      Path target = Files.readSymbolicLink(image.rootfs().resolve(Path.of("/").relativize(inImage)));
      inImage = target.isAbsolute() ? target : inImage.resolveSibling(target).normalize();
    }
    return inImage;
  }

  /** e_machine of an ELF file: 0xB7 for AArch64, 0x3E for x86-64. */
  private static int elfMachine(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      byte[] header = in.readNBytes(20);
      assertThat(header).startsWith(0x7f, 'E', 'L', 'F');
      return (header[18] & 0xff) | (header[19] & 0xff) << 8;
    }
  }

  private static int status(String path) {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create("http://" + address + ":8501" + path))
          .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  private static String logText() throws IOException {
    return Files.exists(log) ? Files.readString(log) : "";
  }
}
