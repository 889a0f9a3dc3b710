package io.infergate.app;

import io.infergate.app.demo.DemoCtrTrainer;
import io.infergate.app.demo.DemoFeatures;
import io.vertx.core.Future;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code infergate class-archive-run} (hidden): what servers do as they start, once over, then
 * exit. {@code bin/lib/class-archive.sh} runs it to record the distribution's class-data-sharing
 * archive: every class loaded here is then mapped ready-parsed by the JVM instead of loaded from
 * the jars at every start. A demo model is trained and served with features from the embedded
 * Hazelcast map, warmed up over every protocol; then a worker and a gateway of a cluster of their
 * own start and warm up too.
 */
@Command(name = "class-archive-run", hidden = true,
    description = "Start a server, and a clustered worker and gateway, on a small demo model, warm them up, and exit.")
final class ClassArchiveRunCommand implements Callable<Integer> {

  private static final long TIMEOUT_SECONDS = 120;

  @Override
  public Integer call() throws Exception {
    Path dir = Files.createTempDirectory("infergate-class-archive");
    try {
      new DemoCtrTrainer(42, 2, 16, true, new PrintStream(OutputStream.nullOutputStream())).train(dir);
      DemoFeatures.write(dir, 50, 50, 42);
      String[] model = {"--model_name=ctr", "--model_base_path=" + dir.resolve("ctr")};

      ServeFlags serve = parse(new ServeFlags(), model, "--rest_api_port=0", "--port=" + freePort(),
          "--feature_config_file=" + dir.resolve(DemoFeatures.HAZELCAST_CONFIG));
      Node server = await(InfergateServer.start(serve.toOptions()));
      try {
        await(DemoCommand.loadDemoFeatures(server, dir).compose(Node::warm));
      } finally {
        // From this thread: Vert.x does not close from one of its own event loops.
        await(server.close());
      }

      String[] cluster = {"--cluster_members=127.0.0.1", "--cluster_name=class-archive-" + UUID.randomUUID()};
      WorkerCommand worker = parse(new WorkerCommand(), model, cluster);
      Node workerNode = await(ClusterNodes.start(worker.cluster.toOptions(), worker.worker.toOptions(), null, 2)).node();
      GatewayCommand gateway = parse(new GatewayCommand(), cluster, "--rest_api_port=0", "--port=" + freePort());
      Node gatewayNode = await(ClusterNodes.start(gateway.cluster.toOptions(), null, gateway.gateway.toOptions("dev"),
          2)).node();
      try {
        await(gatewayNode.warm());
      } finally {
        await(gatewayNode.close());
        await(workerNode.close());
      }
      return 0;
    } finally {
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
      }
    }
  }

  private static <T> T parse(T command, String[] first, String... more) {
    String[] args = Stream.concat(Stream.of(first), Stream.of(more)).toArray(String[]::new);
    new CommandLine(command).parseArgs(args);
    return command;
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  private static int freePort() throws java.io.IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
