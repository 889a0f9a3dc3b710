package io.infergate.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.infergate.proto.oip.GRPCInferenceServiceGrpc;
import io.infergate.proto.oip.ModelInferRequest;
import io.infergate.proto.serving.PredictionServiceGrpc;
import io.infergate.worker.TestModels;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * Requests a hostile or broken client sends: each gets exactly one answer with the right
 * status and a message that says something, in time, and the server lives on.
 */
class HostileRequestsTest {

  private static final long TIMEOUT_MILLIS = 1_500;
  private static final long BODY_TIMEOUT_MILLIS = 500;

  static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start("--rest_api_port=0", "--port=" + TestServer.freePort(), "--model_name=half_plus_two",
        "--model_base_path=" + TestModels.tfServing("saved_model_half_plus_two_cpu"),
        "--rest_api_timeout_in_ms=" + TIMEOUT_MILLIS, "--request_body_timeout_ms=" + BODY_TIMEOUT_MILLIS,
        "--max_request_body_bytes=65536");
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "POST | /v1/models/half_plus_two/versions/abc:predict                  | {\"instances\": [1]}",
      "POST | /v1/models/half_plus_two/versions/99999999999999999999:predict | {\"instances\": [1]}",
      "POST | /v1/models/half_plus_two/versions/-:predict                    | {\"instances\": [1]}",
      "POST | /V1/models/half_plus_two/versions/abc:predict                  | {\"instances\": [1]}",
      "POST | /v1/models/half_plus_two/versions/abc:regress                  | {\"examples\": [{\"x\": 1}]}",
      "POST | /v1/models/half_plus_two/versions/1e3:classify                 | {\"examples\": [{\"x\": 1}]}",
      "GET  | /v1/models/half_plus_two/versions/abc                          | ",
      "GET  | /v1/models/half_plus_two/versions/abc/metadata                 | ",
      "POST | /v2/models/half_plus_two/versions/abc/infer                    | {\"inputs\": []}",
      "GET  | /v2/models/half_plus_two/versions/99999999999999999999/ready   | ",
      "GET  | /v2/models/half_plus_two/versions/abc                          | ",
  })
  void aVersionThatIsNoNumberIsAnsweredAtOnce(String method, String path, String body) throws Exception {
    long started = System.nanoTime();
    TestServer.Response response = server.send(HttpMethod.valueOf(method), path, body == null ? null : Buffer.buffer(body));
    assertThat(response.status()).as(response.body()).isEqualTo(400);
    assertThat(response.json().getString("error")).startsWith("Version must be a number");
    assertThat((System.nanoTime() - started) / 1_000_000).as("not at the deadline").isLessThan(TIMEOUT_MILLIS);
    assertServerLives();
  }

  /** curl's default Content-Type is form-urlencoded: the body is JSON all the same, at any size. */
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "/v1/models/half_plus_two:predict  | {\"instances\": [%s]}                                          | {\"predictions\":[",
      "/v1/models/half_plus_two:regress  | {\"signature_name\": \"regress_x_to_y\", \"examples\": [%s]}  | {\"results\":[",
      "/v1/models/half_plus_two:classify | {\"signature_name\": \"classify_x_to_y\", \"examples\": [%s]} | {\"results\":[",
      "/v2/models/half_plus_two/infer    | {\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [%d], \"data\": [%s]}]} | {\"model_name\":",
  })
  void aFormContentTypeIsNoReasonToReadTheBodyDifferently(String path, String template, String answer) throws Exception {
    int count = 400;
    boolean examples = path.endsWith("regress") || path.endsWith("classify");
    String values = String.join(", ", java.util.Collections.nCopies(count + 200, examples ? "{\"x\": 2.0}" : "2.0"));
    String body = path.startsWith("/v2") ? template.formatted(count + 200, values) : template.formatted(values);
    assertThat(body.length()).isGreaterThan(2048);
    var response = TestServer.await(server.client().request(HttpMethod.POST, server.server.restPort(), "localhost", path)
        .putHeader("content-type", "application/x-www-form-urlencoded").sendBuffer(Buffer.buffer(body)));
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    assertThat(response.bodyAsString()).startsWith(answer);
  }

  /** Each of these once reached TensorFlow, which aborts the process on a rank above 254. */
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "300 | 0 | 0",
      "300 | 1 | 1",
      "33  | 1 | 1",
  })
  void aTensorOfHugeRankIsRefusedOnEveryApi(int rank, long dim, int values) throws Exception {
    String shape = String.join(",", java.util.Collections.nCopies(rank, String.valueOf(dim)));
    String data = String.join(",", java.util.Collections.nCopies(values, "1.0"));
    TestServer.Response rest = server.post("/v2/models/half_plus_two/infer",
        "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [" + shape + "], \"data\": [" + data + "]}]}");
    assertThat(rest.status()).as(rest.body()).isEqualTo(400);
    assertThat(rest.json().getString("error")).contains("rank " + rank);

    String nested = "[".repeat(rank) + (values == 0 ? "" : "1.0") + "]".repeat(rank);
    TestServer.Response v1 = server.post("/v1/models/half_plus_two:predict", "{\"inputs\": " + nested + "}");
    assertThat(v1.status()).as(v1.body()).isEqualTo(400);

    ManagedChannel channel = ManagedChannelBuilder.forAddress("localhost", server.server.grpcPort()).usePlaintext()
        .maxInboundMessageSize(1 << 20).build();
    try {
      long[] dims = new long[rank];
      java.util.Arrays.fill(dims, dim);
      TensorProto.Builder tensor = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
          .setTensorShape(GrpcApiTest.shape(dims));
      for (int i = 0; i < values; i++) {
        tensor.addFloatVal(1f);
      }
      GrpcApiTest.assertCode(() -> PredictionServiceGrpc.newBlockingStub(channel)
          .predict(GrpcApiTest.request("half_plus_two", "x", tensor.build())), Status.Code.INVALID_ARGUMENT, "rank " + rank);
      ModelInferRequest.InferInputTensor.Builder input = ModelInferRequest.InferInputTensor.newBuilder().setName("x")
          .setDatatype("FP32");
      for (long d : dims) {
        input.addShape(d);
      }
      input.getContentsBuilder().addAllFp32Contents(java.util.Collections.nCopies(values, 1f));
      GrpcApiTest.assertCode(() -> GRPCInferenceServiceGrpc.newBlockingStub(channel).modelInfer(
          ModelInferRequest.newBuilder().setModelName("half_plus_two").addInputs(input).build()),
          Status.Code.INVALID_ARGUMENT, "rank " + rank);
    } finally {
      channel.shutdownNow().awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
    }
    assertServerLives();
  }

  /** A few bytes on the wire must not become gigabytes in the server: one value may fill a shape only up to the limit. */
  @Test
  void aTinyMessageCannotAskForAHugeTensor() throws Exception {
    ManagedChannel channel = ManagedChannelBuilder.forAddress("localhost", server.server.grpcPort()).usePlaintext().build();
    try {
      for (long[] dims : new long[][] {{1L << 30}, {1L << 32, 1L << 32}, {1L << 62, 4, 3}}) {
        TensorProto tensor = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).setTensorShape(GrpcApiTest.shape(dims))
            .addFloatVal(1f).build();
        GrpcApiTest.assertCode(() -> PredictionServiceGrpc.newBlockingStub(channel)
            .predict(GrpcApiTest.request("half_plus_two", "x", tensor)), Status.Code.INVALID_ARGUMENT, "Input 'x'");
      }
    } finally {
      channel.shutdownNow().awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
    }
    assertServerLives();
  }

  @Test
  void aBodyThatTricklesInIsCutOffWith408() throws Exception {
    try (Socket socket = new Socket("localhost", server.server.restPort())) {
      socket.setSoTimeout(5_000);
      OutputStream out = socket.getOutputStream();
      out.write(("POST /v1/models/half_plus_two:predict HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n"
          + "Content-Type: application/json\r\n\r\n{\"instances\": [").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      long started = System.nanoTime();
      String answer = readUntilClosed(socket.getInputStream());
      long waited = (System.nanoTime() - started) / 1_000_000;
      assertThat(answer).startsWith("HTTP/1.1 408").contains("did not arrive within " + BODY_TIMEOUT_MILLIS + " ms");
      assertThat(waited).isBetween(BODY_TIMEOUT_MILLIS - 50, BODY_TIMEOUT_MILLIS + 1_000);
    }
    assertServerLives();
  }

  @Test
  void aBodyDeclaredTooLargeIsRefusedBeforeItIsSent() throws Exception {
    try (Socket socket = new Socket("localhost", server.server.restPort())) {
      socket.setSoTimeout(5_000);
      socket.getOutputStream().write(("POST /v1/models/half_plus_two:predict HTTP/1.1\r\nHost: localhost\r\n"
          + "Content-Length: 1000000000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      String answer = readUntilClosed(socket.getInputStream());
      assertThat(answer).startsWith("HTTP/1.1 413").contains("larger than the limit of 65536 bytes");
    }
  }

  @Test
  void anErrorNeverHasAnEmptyMessage() throws Exception {
    for (String body : new String[] {"", "{}", "null", "{\"instances\": null}", "\"x\""}) {
      TestServer.Response response = server.post("/v1/models/half_plus_two:predict", body);
      assertThat(response.status()).as(body).isEqualTo(400);
      String error = response.json().getString("error");
      assertThat(error).as(body).isNotBlank().isNotEqualTo("null");
    }
  }

  /** A gRPC call whose request message stops halfway is answered at its deadline, not held open. */
  @Test
  void aGrpcCallWhoseMessageNeverCompletesEndsAtTheDeadline() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      HttpClient http2 = vertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
          .setHttp2ClearTextUpgrade(false));
      long started = System.nanoTime();
      HttpClientResponse response = TestServer.await(http2.request(HttpMethod.POST, server.server.grpcPort(),
              "localhost", "/tensorflow.serving.PredictionService/Predict")
          .compose(request -> {
            request.setChunked(true).putHeader("content-type", "application/grpc").putHeader("te", "trailers");
            // A message frame that announces 100 bytes and brings 3; no deadline header, so the server's applies.
            request.write(Buffer.buffer(new byte[] {0, 0, 0, 0, 100, 10, 1, 'x'}));
            return request.response();
          }));
      String status = response.getHeader("grpc-status");
      if (status == null) {
        TestServer.await(response.end());
        status = response.getTrailer("grpc-status");
      }
      assertThat(status).isEqualTo(String.valueOf(Status.Code.DEADLINE_EXCEEDED.value()));
      assertThat((System.nanoTime() - started) / 1_000_000).isBetween(TIMEOUT_MILLIS - 50, TIMEOUT_MILLIS + 1_000);
    } finally {
      TestServer.await(vertx.close());
    }
  }

  /** Bytes that are no protobuf message are the client's fault: INVALID_ARGUMENT, not INTERNAL. */
  @Test
  void aGrpcMessageThatDoesNotParseIsAnInvalidArgument() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      HttpClient http2 = vertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
          .setHttp2ClearTextUpgrade(false));
      HttpClientResponse response = TestServer.await(http2.request(HttpMethod.POST, server.server.grpcPort(),
              "localhost", "/tensorflow.serving.PredictionService/Predict")
          .compose(request -> {
            request.putHeader("content-type", "application/grpc").putHeader("te", "trailers");
            // A 5-byte message whose field tag 0 is not valid protobuf.
            return request.send(Buffer.buffer(new byte[] {0, 0, 0, 0, 5, 0, 0, 0, 0, 0}))
                .compose(answer -> answer.end().map(v -> answer));
          }));
      String status = response.getHeader("grpc-status") != null ? response.getHeader("grpc-status")
          : response.getTrailer("grpc-status");
      assertThat(status).isEqualTo(String.valueOf(Status.Code.INVALID_ARGUMENT.value()));
    } finally {
      TestServer.await(vertx.close());
    }
    assertServerLives();
  }

  /** Without --admin_token, model management is off altogether. */
  @Test
  void modelManagementIsOffWithoutAnAdminToken() throws Exception {
    ManagedChannel channel = ManagedChannelBuilder.forAddress("localhost", server.server.grpcPort()).usePlaintext().build();
    try {
      GrpcApiTest.assertCode(() -> io.infergate.proto.serving.ModelServiceGrpc.newBlockingStub(channel)
              .handleReloadConfigRequest(io.infergate.proto.serving.ReloadConfigRequest.getDefaultInstance()),
          Status.Code.PERMISSION_DENIED, "Model management is off");
    } finally {
      channel.shutdownNow().awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
    }
    TestServer.Response admin = server.get("/admin/registry");
    assertThat(admin.status()).isEqualTo(403);
    assertThat(admin.json().getString("error")).contains("Model management is off");
  }

  static void assertServerLives() throws Exception {
    TestServer.Response response = server.post("/v1/models/half_plus_two:predict", "{\"instances\": [1.0]}");
    assertThat(response.status()).isEqualTo(200);
    assertThat(new JsonObject(response.body()).getJsonArray("predictions").getDouble(0)).isEqualTo(2.5);
  }

  private static String readUntilClosed(InputStream in) throws Exception {
    ByteArrayOutputStream read = new ByteArrayOutputStream();
    byte[] chunk = new byte[4096];
    try {
      for (int n; (n = in.read(chunk)) > 0; ) {
        read.write(chunk, 0, n);
      }
    } catch (SocketTimeoutException e) {
      throw new AssertionError("The server neither answered nor closed the connection; got: " + read, e);
    }
    return read.toString(StandardCharsets.UTF_8);
  }
}
