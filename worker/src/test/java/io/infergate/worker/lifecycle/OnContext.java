package io.infergate.worker.lifecycle;

import io.vertx.core.Context;
import io.vertx.core.Future;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Runs work on a Vert.x context, as the lifecycle classes require, and waits for its result. */
final class OnContext {

  private OnContext() {}

  static <T> T run(Context context, Supplier<Future<T>> work) throws Exception {
    CompletableFuture<T> result = new CompletableFuture<>();
    context.runOnContext(v -> work.get().onComplete(done -> {
      if (done.succeeded()) {
        result.complete(done.result());
      } else {
        result.completeExceptionally(done.cause());
      }
    }));
    return result.get(30, TimeUnit.SECONDS);
  }
}
