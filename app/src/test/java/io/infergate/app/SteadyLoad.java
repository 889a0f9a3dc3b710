package io.infergate.app;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Open-loop load for fault tests: a request every period whatever the server does, each one
 * accounted for (its status, or 0 when the client gave up on it, and its latency), so a test can
 * say that nothing was lost and nothing answered past its deadline.
 */
final class SteadyLoad implements AutoCloseable {

  /** One request's fate: when it was sent (ms since the load began), its status (0: no answer) and latency. */
  record Outcome(long sentMillis, int status, long millis) {}

  private final Vertx vertx = Vertx.vertx();
  private final HttpClient client;
  private final List<Outcome> outcomes = new CopyOnWriteArrayList<>();
  private final List<String> failures = new CopyOnWriteArrayList<>();
  private final long started = System.nanoTime();
  private final long timer;

  /**
   * @param giveUpMillis how long the client waits for an answer (well past the server's deadline)
   */
  SteadyLoad(String host, int port, String path, String body, int perSecond, long giveUpMillis) {
    client = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(2_000).setIdleTimeout(0),
        new PoolOptions().setHttp1MaxSize(64));
    RequestOptions request = new RequestOptions().setMethod(HttpMethod.POST).setHost(host).setPort(port)
        .setURI(path).setTimeout(giveUpMillis).putHeader("content-type", "application/json");
    Buffer payload = Buffer.buffer(body);
    timer = vertx.setPeriodic(1000 / perSecond, id -> {
      long sent = System.nanoTime();
      long at = (sent - started) / 1_000_000;
      client.request(request).compose(r -> r.send(payload)).compose(r -> r.body().map(b -> r.statusCode()))
          .onComplete(result -> {
            long millis = (System.nanoTime() - sent) / 1_000_000;
            outcomes.add(new Outcome(at, result.succeeded() ? result.result() : 0, millis));
            if (result.failed()) {
              failures.add(at + " ms: " + result.cause());
            }
          });
    });
  }

  /** Milliseconds since the load began: the time base of the outcomes. */
  long now() {
    return (System.nanoTime() - started) / 1_000_000;
  }

  /** Stops sending and waits for every request sent to end; returns them all, in the order sent. */
  List<Outcome> stop() throws InterruptedException {
    vertx.cancelTimer(timer);
    Thread.sleep(100);
    long deadline = System.currentTimeMillis() + 30_000;
    int settled = -1;
    while (System.currentTimeMillis() < deadline && settled != outcomes.size()) {
      settled = outcomes.size();
      Thread.sleep(3_000);
    }
    List<Outcome> all = new ArrayList<>(outcomes);
    all.sort((a, b) -> Long.compare(a.sentMillis(), b.sentMillis()));
    return all;
  }

  List<String> clientFailures() {
    return failures;
  }

  /** Outcomes counted by status. */
  static Map<Integer, Long> byStatus(List<Outcome> outcomes) {
    Map<Integer, Long> counts = new TreeMap<>();
    outcomes.forEach(o -> counts.merge(o.status(), 1L, Long::sum));
    return counts;
  }

  /** From when on (ms) every request sent was answered 200, or -1 when that never held to the end. */
  static long healthySince(List<Outcome> outcomes, long from) {
    long since = -1;
    for (Outcome outcome : outcomes) {
      if (outcome.sentMillis() < from) {
        continue;
      }
      if (outcome.status() != 200) {
        since = -1;
      } else if (since < 0) {
        since = outcome.sentMillis();
      }
    }
    return since;
  }

  static List<Outcome> matching(List<Outcome> outcomes, Predicate<Outcome> which) {
    return outcomes.stream().filter(which).toList();
  }

  @Override
  public void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
