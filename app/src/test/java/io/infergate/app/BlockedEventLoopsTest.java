package io.infergate.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The check every test runs under: an event loop blocked past the tests' limit is reported. */
class BlockedEventLoopsTest {

  @Test
  void aBlockedEventLoopIsCaught() throws Exception {
    long limit = Long.parseLong(System.getProperty(EventLoopOptions.MAX_BLOCK_PROPERTY));
    Vertx vertx = Vertx.vertx(EventLoopOptions.of(1));
    try {
      Context loop = vertx.getOrCreateContext();
      loop.runOnContext(v -> {
        try {
          Thread.sleep(limit * 3);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      CompletableFuture<Void> unblocked = new CompletableFuture<>();
      loop.runOnContext(v -> unblocked.complete(null));
      unblocked.get(10, TimeUnit.SECONDS);
      assertThat(BlockedEventLoops.takeReports()).isNotEmpty().allMatch(report -> report.contains("has been blocked"));
    } finally {
      TestServer.await(vertx.close());
    }
  }
}
