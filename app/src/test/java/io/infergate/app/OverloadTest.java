package io.infergate.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.infergate.proto.serving.GetModelMetadataRequest;
import io.infergate.proto.serving.ModelSpec;
import io.infergate.proto.serving.PredictionServiceGrpc;
import io.infergate.worker.TestModels;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Load beyond the admission budget is refused at once, with a hint to retry, instead of waiting:
 * requests in flight (per server and per model), connections, and request memory. Batches that
 * close only after a second keep admitted requests in flight, which makes each case deterministic.
 */
class OverloadTest {

  private static final String PREDICT = "/v1/models/hp:predict";
  private static final String BODY = "{\"instances\": [1.0]}";

  @TempDir
  Path dir;

  @Test
  void requestsBeyondTheServersBudgetAreRefusedAtOnceWithRetryAfter() throws Exception {
    try (TestServer server = start("--max_concurrent_requests=2")) {
      ManagedChannel channel = channel(server);
      try {
        AtomicReference<Metadata> trailers = new AtomicReference<>();
        var stub = PredictionServiceGrpc.newBlockingStub(channel).withInterceptors(
            io.grpc.stub.MetadataUtils.newCaptureMetadataInterceptor(new AtomicReference<>(), trailers));
        // Connected and warm before the budget is taken, so that the refusals come well within the batch timeout.
        stub.getModelMetadata(GetModelMetadataRequest.newBuilder()
            .setModelSpec(ModelSpec.newBuilder().setName("hp")).addMetadataField("signature_def").build());
        List<Future<HttpResponse<Buffer>>> held = holdTwo(server);
        long started = System.nanoTime();
        HttpResponse<Buffer> refused = TestServer.await(server.sendAsync(HttpMethod.POST, PREDICT, Buffer.buffer(BODY)));
        assertThat(refused.statusCode()).isEqualTo(503);
        assertThat(refused.getHeader("retry-after")).isEqualTo("1");
        assertThat(refused.bodyAsJsonObject().getString("error")).contains("2 requests in flight, its limit");
        assertThat((System.nanoTime() - started) / 1_000_000).as("at once, not after the batch").isLessThan(500);

        StatusRuntimeException grpcRefused = org.assertj.core.api.Assertions.catchThrowableOfType(
            StatusRuntimeException.class, () -> stub.predict(GrpcApiTest.request("hp", "x",
                GrpcApiTest.floats(new float[] {1}, 1))));
        assertThat(grpcRefused).as("refused while the two are held").isNotNull();
        assertThat(grpcRefused.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(trailers.get().get(Metadata.Key.of("grpc-retry-pushback-ms", Metadata.ASCII_STRING_MARSHALLER)))
            .isEqualTo("1000");
        for (Future<HttpResponse<Buffer>> request : held) {
          assertThat(TestServer.await(request).statusCode()).isEqualTo(200);
        }
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      // Probes, metrics and metadata are never refused for load.
      assertThat(server.get("/readyz").status()).isEqualTo(200);
      assertThat(server.get("/v1/models/hp").status()).isEqualTo(200);
      assertThat(server.post(PREDICT, BODY).status()).as("the budget is returned").isEqualTo(200);
      assertThat(server.get("/metrics").body()).contains("infergate_requests_shed_total{budget=\"server\"} 2.0");
    }
  }

  @Test
  void aModelBeyondItsOwnBudgetIsRefusedWhileOthersAreServed() throws Exception {
    try (TestServer server = start("--max_concurrent_requests_per_model=1")) {
      Future<HttpResponse<Buffer>> held = server.sendAsync(HttpMethod.POST, PREDICT, Buffer.buffer(BODY));
      Traffic.awaitCondition(() -> metric(server, "infergate_requests_in_flight ").equals("1.0"), 10_000);
      TestServer.Response refused = server.post(PREDICT, BODY);
      assertThat(refused.status()).isEqualTo(429);
      assertThat(refused.json().getString("error")).contains("Model hp has 1 requests in flight");
      assertThat(server.post("/v1/models/other:predict", "{\"instances\": [[1.0]]}").status())
          .as("another model, unbatched").isEqualTo(200);
      assertThat(TestServer.await(held).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void connectionsBeyondTheBudgetAreClosedAtOnce() throws Exception {
    try (TestServer server = start("--max_connections=2")) {
      List<Socket> open = new ArrayList<>();
      try {
        for (int i = 0; i < 2; i++) {
          Socket socket = new Socket("localhost", server.server.restPort());
          assertThat(exchange(socket, get("/healthz"))).startsWith("HTTP/1.1 200");
          open.add(socket);
        }
        try (Socket third = new Socket("localhost", server.server.restPort())) {
          third.setSoTimeout(5_000);
          third.getOutputStream().write(get("/healthz").getBytes(StandardCharsets.US_ASCII));
          assertThat(third.getInputStream().read()).as("closed without an answer").isEqualTo(-1);
        }
        open.remove(0).close();
        Traffic.awaitCondition(() -> {
          try (Socket again = new Socket("localhost", server.server.restPort())) {
            return exchange(again, get("/healthz")).startsWith("HTTP/1.1 200");
          } catch (Exception e) {
            return false;
          }
        }, 10_000);
      } finally {
        for (Socket socket : open) {
          socket.close();
        }
      }
    }
  }

  /** A request's body is charged to the memory budget while it is served: one in flight leaves no room for another. */
  @Test
  void requestsBeyondTheMemoryBudgetAreRefusedAndTheConnectionStaysUsable() throws Exception {
    // 64 KiB bodies at most, charged 8 times: a 100 KB budget takes one request of 10 KB, not two.
    try (TestServer server = start("--max_request_body_bytes=10000", "--grpc_max_message_size=10000",
        "--max_inflight_request_bytes=100000", "--request_body_timeout_ms=10000");
         Socket slow = new Socket("localhost", server.server.restPort());
         Socket next = new Socket("localhost", server.server.restPort())) {
      // Declares 9000 bytes and sends a few: charged 72000 bytes until it is answered.
      slow.getOutputStream().write(("POST " + PREDICT + " HTTP/1.1\r\nHost: localhost\r\nContent-Length: 9000\r\n\r\n{")
          .getBytes(StandardCharsets.US_ASCII));
      Traffic.awaitCondition(() -> metric(server, "infergate_requests_in_flight_bytes ").equals("72000.0"), 10_000);
      String padded = "{\"instances\": [1.0], \"pad\": \"" + "x".repeat(5000) + "\"}";
      String refused = exchange(next, "POST " + PREDICT + " HTTP/1.1\r\nHost: localhost\r\nContent-Length: "
          + padded.length() + "\r\n\r\n" + padded);
      assertThat(refused).startsWith("HTTP/1.1 503").contains("retry-after: 1").contains("memory budget");
      // The refused body was not read, yet the connection carries the next request.
      assertThat(exchange(next, get("/healthz"))).startsWith("HTTP/1.1 200");
      slow.close();
      Traffic.awaitCondition(() -> metric(server, "infergate_requests_in_flight_bytes ").equals("0.0"), 10_000);
      assertThat(server.post(PREDICT, padded).status()).isEqualTo(200);
    }
  }

  /** hp batches with a two-second timeout (so requests stay in flight); other is unbatched. */
  private TestServer start(String... flags) throws Exception {
    Path batching = Files.writeString(dir.resolve("batching.config"), """
        max_batch_size { value: 8 } batch_timeout_micros { value: 2000000 }
        max_enqueued_batches { value: 4 } num_batch_threads { value: 1 }""");
    Path config = Files.writeString(dir.resolve("models.config"), """
        model_config_list {
          config { name: "hp" base_path: "%s" }
          config { name: "other" base_path: "%s" }
        }""".formatted(TestModels.tfServing("saved_model_half_plus_two_cpu"),
        TestModels.tfServing("saved_model_half_plus_two_tf2_cpu")));
    List<String> args = new ArrayList<>(List.of("--rest_api_port=0", "--port=" + TestServer.freePort(),
        "--model_config_file=" + config, "--enable_batching", "--batching_parameters_file=" + batching,
        "--enable_model_warmup=false"));
    args.addAll(List.of(flags));
    return TestServer.start(args.toArray(String[]::new));
  }

  private static List<Future<HttpResponse<Buffer>>> holdTwo(TestServer server) throws InterruptedException {
    List<Future<HttpResponse<Buffer>>> held = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      held.add(server.sendAsync(HttpMethod.POST, PREDICT, Buffer.buffer(BODY)));
    }
    Traffic.awaitCondition(() -> metric(server, "infergate_requests_in_flight ").equals("2.0"), 10_000);
    return held;
  }

  private static ManagedChannel channel(TestServer server) {
    return ManagedChannelBuilder.forAddress("localhost", server.server.grpcPort()).usePlaintext().build();
  }

  /** A metric's value in the server's scrape, by its name and labels up to the value. */
  private static String metric(TestServer server, String prefix) {
    try {
      return server.get("/metrics").body().lines().filter(line -> line.startsWith(prefix))
          .map(line -> line.substring(prefix.length()).trim()).findFirst().orElse("");
    } catch (Exception e) {
      return "";
    }
  }

  private static String get(String path) {
    return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
  }

  /** Sends one request on a kept-alive connection and reads its whole answer. */
  private static String exchange(Socket socket, String request) throws Exception {
    socket.setSoTimeout(5_000);
    OutputStream out = socket.getOutputStream();
    out.write(request.getBytes(StandardCharsets.UTF_8));
    out.flush();
    InputStream in = socket.getInputStream();
    StringBuilder answer = new StringBuilder();
    int contentLength = -1;
    while (true) {
      int b = in.read();
      if (b < 0) {
        return answer.toString();
      }
      answer.append((char) b);
      if (answer.toString().endsWith("\r\n\r\n")) {
        for (String line : answer.toString().split("\r\n")) {
          if (line.toLowerCase().startsWith("content-length:")) {
            contentLength = Integer.parseInt(line.substring(15).trim());
          }
        }
        break;
      }
    }
    byte[] body = in.readNBytes(Math.max(contentLength, 0));
    return answer + new String(body, StandardCharsets.UTF_8);
  }
}
