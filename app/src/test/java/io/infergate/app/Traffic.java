package io.infergate.app;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * Sustained traffic for lifecycle tests: a fixed number of requests always in flight, every
 * answer checked; it records failures and the versions that served (x-model-version).
 */
final class Traffic implements AutoCloseable {

  private final TestServer server;
  private final String path;
  private final Buffer body;
  private final String expectedBody;
  private final CountDownLatch stopped;
  private volatile boolean running = true;
  final AtomicInteger succeeded = new AtomicInteger();
  final List<String> failures = new CopyOnWriteArrayList<>();
  final Set<String> versions = ConcurrentHashMap.newKeySet();
  volatile String lastVersion;

  private Traffic(TestServer server, String path, String body, String expectedBody, int concurrency) {
    this.server = server;
    this.path = path;
    this.body = Buffer.buffer(body);
    this.expectedBody = expectedBody;
    this.stopped = new CountDownLatch(concurrency);
    for (int i = 0; i < concurrency; i++) {
      next();
    }
  }

  static Traffic start(TestServer server, String path, String body, String expectedBody) {
    return new Traffic(server, path, body, expectedBody, 8);
  }

  private void next() {
    if (!running) {
      stopped.countDown();
      return;
    }
    server.sendAsync(HttpMethod.POST, path, body).onComplete(result -> {
      if (result.failed()) {
        failures.add(result.cause().toString());
      } else if (result.result().statusCode() != 200 || !expectedBody.equals(result.result().bodyAsString())) {
        failures.add(result.result().statusCode() + " " + result.result().bodyAsString());
      } else {
        succeeded.incrementAndGet();
        lastVersion = result.result().getHeader("x-model-version");
        versions.add(lastVersion);
      }
      next();
    });
  }

  /** Waits until {@code condition} holds while traffic flows, then for some more successful requests. */
  void awaitThen(BooleanSupplier condition, long timeoutMillis) throws InterruptedException {
    awaitCondition(condition, timeoutMillis);
    int after = succeeded.get() + 50;
    awaitCondition(() -> succeeded.get() >= after, timeoutMillis);
  }

  static void awaitCondition(BooleanSupplier condition, long timeoutMillis) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMillis;
    while (!condition.getAsBoolean()) {
      if (System.currentTimeMillis() > deadline) {
        throw new AssertionError("Condition not met within " + timeoutMillis + " ms");
      }
      Thread.sleep(20);
    }
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    stopped.await(30, TimeUnit.SECONDS);
  }
}
