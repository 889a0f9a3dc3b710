package io.infergate.loadtest;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Steady open-loop load while a fresh process joins, as a load balancer sees it: requests go out
 * on a fixed schedule (latency counts from when each was due), first all to one backend; a new
 * backend takes its round-robin share from the first readiness probe that finds it ready
 * ({@code --join URL READY_URL}, probed every 200 ms), or, for a process behind the first backend
 * (a worker behind a gateway), its readiness only marks the moment ({@code --watch READY_URL}).
 *
 * <p>Usage: {@code FreshProcessLoad RATE SECONDS WARMUP_SECONDS STEADY_SECONDS BODY_FILE URL [--join URL
 * READY_URL | --watch READY_URL]}, the new process started STEADY_SECONDS after the warm-up. Prints CSV:
 * per phase the requests, errors (anything but 200, or no answer), P50, P99, P99.9 and max in ms:
 * {@code steady} (the STEADY_SECONDS after WARMUP_SECONDS), {@code starting} (from then until the
 * new process is ready: it starts on the same machine), {@code new_first_60s} (the new backend's first 60 s; with --watch, all
 * requests of the 60 s after the worker is ready) and {@code old_first_60s} (the first backend
 * meanwhile, with --join); then {@code second,...} lines: the new process's first 60 s second by second.
 */
public final class FreshProcessLoad {

  private static final long PROBE_MILLIS = 200;
  private static final int FIRST_SECONDS = 60;

  /** Latencies of one phase, and its failures by status (0: no answer). */
  private static final class Phase {
    final Histogram latencies = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
    final Map<Integer, Long> errors = new TreeMap<>();

    void record(long micros, int status) {
      latencies.recordValue(Math.min(micros, latencies.getHighestTrackableValue()));
      if (status != 200) {
        errors.merge(status, 1L, Long::sum);
      }
    }

    long errorCount() {
      return errors.values().stream().mapToLong(Long::longValue).sum();
    }

    String csv(String name) {
      return String.format(Locale.ROOT, "%s,%d,%d,%.2f,%.2f,%.2f,%.2f", name, latencies.getTotalCount(), errorCount(),
          latencies.getValueAtPercentile(50) / 1000.0, latencies.getValueAtPercentile(99) / 1000.0,
          latencies.getValueAtPercentile(99.9) / 1000.0, latencies.getMaxValue() / 1000.0);
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 6 && args.length != 8 && args.length != 9) {
      System.err.println("usage: FreshProcessLoad RATE SECONDS WARMUP_SECONDS STEADY_SECONDS BODY_FILE URL "
          + "[--join URL READY_URL | --watch READY_URL]");
      System.exit(2);
    }
    int rate = Integer.parseInt(args[0]);
    int seconds = Integer.parseInt(args[1]);
    long warmupNanos = TimeUnit.SECONDS.toNanos(Integer.parseInt(args[2]));
    long launchNanos = warmupNanos + TimeUnit.SECONDS.toNanos(Integer.parseInt(args[3]));
    Buffer body = Buffer.buffer(Files.readAllBytes(Path.of(args[4])));
    URI first = URI.create(args[5]);
    boolean join = args.length == 9 && args[6].equals("--join");
    URI fresh = join ? URI.create(args[7]) : null;
    URI ready = args.length == 8 ? URI.create(args[7]) : args.length == 9 ? URI.create(args[8]) : null;

    Vertx vertx = Vertx.vertx();
    HttpClient toFirst = client(vertx);
    HttpClient toFresh = client(vertx);
    HttpClient probes = vertx.createHttpClient();
    Phase steady = new Phase();
    Phase starting = new Phase();
    Phase newFirst = new Phase();
    Phase oldFirst = new Phase();
    Phase[] bySecond = new Phase[FIRST_SECONDS];
    for (int i = 0; i < FIRST_SECONDS; i++) {
      bySecond[i] = new Phase();
    }
    long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
    long[] joinedAt = {Long.MAX_VALUE};
    if (ready != null) {
      vertx.setPeriodic(PROBE_MILLIS, timer -> probes.request(HttpMethod.GET, ready.getPort(), ready.getHost(),
              ready.getRawPath())
          .compose(request -> request.send().compose(response -> response.body().map(response.statusCode())))
          .onSuccess(status -> {
            if (status == 200 && joinedAt[0] == Long.MAX_VALUE) {
              joinedAt[0] = System.nanoTime();
              System.err.printf(Locale.ROOT, "ready at %.1f s%n", (joinedAt[0] - start) / 1e9);
              vertx.cancelTimer(timer);
            }
          }));
    }
    long total = (long) rate * seconds;
    CountDownLatch done = new CountDownLatch(Math.toIntExact(total));
    long timer = OpenLoopSchedule.start(vertx, rate, total, start, (n, due) -> {
      long joined = joinedAt[0];
      boolean toNew = join && due >= joined && n % 2 == 1;
      URI target = toNew ? fresh : first;
      (toNew ? toFresh : toFirst).request(new RequestOptions().setMethod(HttpMethod.POST).setHost(target.getHost())
              .setPort(target.getPort()).setURI(target.getRawPath()).putHeader("content-type", "application/json"))
          .compose(request -> request.send(body))
          .compose(response -> response.body().map(response.statusCode()))
          .onComplete(result -> {
            long micros = Math.max(0, (System.nanoTime() - due) / 1_000);
            int status = result.succeeded() ? result.result() : 0;
            long sinceJoin = due - joined;
            synchronized (steady) {
              if (sinceJoin < 0 && due - start >= launchNanos) {
                starting.record(micros, status);
              } else if (sinceJoin < 0 && due - start >= warmupNanos) {
                steady.record(micros, status);
              } else if (sinceJoin >= 0 && sinceJoin < TimeUnit.SECONDS.toNanos(FIRST_SECONDS)) {
                if (toNew || !join) {
                  newFirst.record(micros, status);
                  bySecond[(int) (sinceJoin / 1_000_000_000L)].record(micros, status);
                } else {
                  oldFirst.record(micros, status);
                }
              }
            }
            done.countDown();
          });
    });
    boolean finished = done.await(seconds + 60L, TimeUnit.SECONDS);
    vertx.cancelTimer(timer);
    synchronized (steady) {
      System.out.println("phase,requests,errors,p50_ms,p99_ms,p999_ms,max_ms");
      System.out.println(steady.csv("steady"));
      System.out.println(starting.csv("starting"));
      System.out.println(newFirst.csv("new_first_60s"));
      if (join) {
        System.out.println(oldFirst.csv("old_first_60s"));
      }
      List<String> errors = new ArrayList<>();
      for (Phase phase : new Phase[] {steady, starting, newFirst, oldFirst}) {
        errors.add(phase.errors.toString());
      }
      System.err.println("errors by status (0: no answer), steady / starting / new / old: " + errors
          + (finished ? "" : "; unfinished: " + done.getCount()) + (joinedAt[0] == Long.MAX_VALUE ? "; never ready" : ""));
      for (int i = 0; i < FIRST_SECONDS; i++) {
        System.out.println(bySecond[i].csv("second_" + i));
      }
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static HttpClient client(Vertx vertx) {
    return vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true), new PoolOptions().setHttp1MaxSize(64));
  }
}
