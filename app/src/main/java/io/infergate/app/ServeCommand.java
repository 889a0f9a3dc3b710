package io.infergate.app;

import io.infergate.common.config.ConfigException;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code infergate serve}: gateway and worker in one JVM, until the process is stopped. */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Serve TensorFlow SavedModels over TF Serving's REST API and the Open Inference Protocol, "
        + "gateway and worker in one process.")
final class ServeCommand implements Callable<Integer> {

  @Mixin
  ServeFlags flags;

  @Override
  public Integer call() throws InterruptedException {
    return serve(flags);
  }

  /** Starts the server and blocks until shutdown; returns the exit code. */
  static int serve(ServeFlags flags) throws InterruptedException {
    InfergateServer server;
    try {
      server = InfergateServer.start(flags.toOptions()).toCompletionStage().toCompletableFuture().get();
    } catch (ConfigException e) {
      System.err.println("infergate: " + e.getMessage());
      return 2;
    } catch (ExecutionException e) {
      System.err.println("infergate: could not start: " + e.getCause().getMessage());
      return 1;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        server.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        System.err.println("infergate: unclean shutdown: " + e);
      } finally {
        stopped.countDown();
      }
    }, "infergate-shutdown"));
    stopped.await();
    return 0;
  }
}
