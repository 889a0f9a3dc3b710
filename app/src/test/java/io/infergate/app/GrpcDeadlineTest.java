package io.infergate.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.infergate.proto.serving.PredictResponse;
import io.infergate.proto.serving.PredictionServiceGrpc;
import io.infergate.worker.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client's gRPC deadline travels through the event bus and the batch queue. A batch that
 * closes only after a second keeps requests waiting, which makes both cases deterministic.
 */
class GrpcDeadlineTest {

  @TempDir
  Path dir;

  @Test
  void answersDeadlineExceededInTimeAndDropsTheRequestBeforeItRuns() throws Exception {
    try (TestServer server = start(); Client client = new Client(server)) {
      long started = System.nanoTime();
      GrpcApiTest.assertCode(() -> client.blocking.withDeadlineAfter(200, TimeUnit.MILLISECONDS)
          .predict(GrpcApiTest.request("hp", "x", GrpcApiTest.floats(new float[] {1}, 1))),
          Status.Code.DEADLINE_EXCEEDED, "");
      assertThat((System.nanoTime() - started) / 1_000_000).as("answered at the deadline, not after the batch").isLessThan(900);
      Traffic.awaitCondition(() -> metrics(server).contains("infergate_batch_expired_total{model=\"hp\",version=\"123\"} 1.0"), 10_000);
      assertThat(metrics(server)).contains("infergate_batch_executions_total{model=\"hp\",version=\"123\"} 0.0");
    }
  }

  @Test
  void aFullBatchQueueAnswersUnavailableAtOnce() throws Exception {
    try (TestServer server = start(); Client client = new Client(server)) {
      var waiting = PredictionServiceGrpc.newFutureStub(client.channel)
          .predict(GrpcApiTest.request("hp", "x", GrpcApiTest.floats(new float[] {1}, 1)));
      Traffic.awaitCondition(() -> metrics(server).contains("infergate_batch_queue_depth{model=\"hp\",version=\"123\"} 1.0"), 10_000);
      GrpcApiTest.assertCode(() -> client.blocking.predict(GrpcApiTest.request("hp", "x", GrpcApiTest.floats(new float[] {2, 3}, 2))),
          Status.Code.UNAVAILABLE, "queue to which this task was submitted is full");
      PredictResponse first = waiting.get(10, TimeUnit.SECONDS);
      assertThat(GrpcApiTest.floatValues(first.getOutputsOrThrow("y"))).containsExactly(2.5f);
    }
  }

  /** One batch of at most 2 rows at a time, which closes after a second. */
  private TestServer start() throws Exception {
    Path parameters = Files.writeString(dir.resolve("batching.config"), """
        max_batch_size { value: 2 } batch_timeout_micros { value: 1000000 }
        max_enqueued_batches { value: 1 } num_batch_threads { value: 1 }""");
    return TestServer.start("--rest_api_port=0", "--port=" + TestServer.freePort(), "--model_name=hp",
        "--model_base_path=" + TestModels.tfServing("saved_model_half_plus_two_cpu"),
        "--enable_batching", "--batching_parameters_file=" + parameters, "--enable_model_warmup=false");
  }

  private static String metrics(TestServer server) {
    try {
      return server.get("/monitoring/prometheus/metrics").body();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static final class Client implements AutoCloseable {
    final ManagedChannel channel;
    final PredictionServiceGrpc.PredictionServiceBlockingStub blocking;

    Client(TestServer server) {
      channel = ManagedChannelBuilder.forAddress("localhost", server.server.grpcPort()).usePlaintext().build();
      blocking = PredictionServiceGrpc.newBlockingStub(channel);
    }

    @Override
    public void close() throws InterruptedException {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
