package io.infergate.app;

import io.infergate.common.config.ConfigException;
import io.vertx.core.Future;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** Runs a node until the process is stopped; a shutdown hook unloads models and leaves the cluster. */
final class Processes {

  private Processes() {}

  /** Starts the node and blocks until shutdown; returns the exit code. */
  static int runUntilStopped(Callable<Future<Node>> start) throws Exception {
    Node node;
    try {
      node = start.call().toCompletionStage().toCompletableFuture().get();
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
        node.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
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
