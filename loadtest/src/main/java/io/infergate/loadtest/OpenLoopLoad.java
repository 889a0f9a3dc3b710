package io.infergate.loadtest;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * An open-loop HTTP load generator: requests are sent on a fixed schedule whatever the server
 * does, and each latency is measured from the moment the request was due, not from when it
 * could be sent. A closed loop (N clients waiting for answers) slows down with the server and
 * hides its queueing; this one does not.
 *
 * <p>Usage: {@code OpenLoopLoad [--grpc] URL BODY_FILE SECONDS RATE [RATE...]}; prints one CSV line per
 * rate: offered/s, achieved/s, p50 ms, p90 ms, p99 ms, max ms, errors (anything but 200), then
 * the same split by answer: admitted (200) per second and P99, and shed (429 or 503, a server
 * refusing load) per second, P99 and max, and how many requests got neither (another status, no
 * answer), whose statuses and the seconds they were sent in go to stderr. A first, unreported five seconds at the first rate warm
 * the generator and the server up.
 *
 * <p>Each {@code --header NAME:VALUE} (before the URL) is sent with every request: a priority, a tenant.
 *
 * <p>With {@code --zipf N,S} each request goes to one of N models picked by a Zipf law of exponent
 * S ({@link ZipfModels}): {@code {model}} in the URL becomes {@code m0} … {@code m<N-1>}.
 *
 * <p>With {@code --grpc} the body file is one length-prefixed gRPC message (as {@link GrpcRequestFile}
 * writes it), sent as a unary call over four HTTP/2 connections; its answer is its grpc-status
 * (OK counts as 200, RESOURCE_EXHAUSTED as 429, UNAVAILABLE as 503, others as 1000 + their code).
 */
public final class OpenLoopLoad {

  public static void main(String[] args) throws Exception {
    boolean grpc = args.length > 0 && args[0].equals("--grpc");
    if (grpc) {
      args = java.util.Arrays.copyOfRange(args, 1, args.length);
    }
    java.util.Map<String, String> headers = new java.util.LinkedHashMap<>();
    while (args.length > 1 && args[0].equals("--header")) {
      String[] header = args[1].split(":", 2);
      headers.put(header[0].trim(), header[1].trim());
      args = java.util.Arrays.copyOfRange(args, 2, args.length);
    }
    ZipfModels zipf = null;
    if (args.length > 1 && args[0].equals("--zipf")) {
      String[] law = args[1].split(",");
      zipf = new ZipfModels(Integer.parseInt(law[0]), Double.parseDouble(law[1]));
      args = java.util.Arrays.copyOfRange(args, 2, args.length);
    }
    if (args.length < 4) {
      System.err.println("usage: OpenLoopLoad [--grpc] [--header NAME:VALUE]... [--zipf N,S] URL BODY_FILE SECONDS RATE [RATE...]");
      System.exit(2);
    }
    URI url = URI.create(args[0].replace("{model}", "m0"));
    Buffer body = Buffer.buffer(Files.readAllBytes(Path.of(args[1])));
    int seconds = Integer.parseInt(args[2]);
    Vertx vertx = Vertx.vertx();
    HttpClient client = grpc
        ? vertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
            .setHttp2ClearTextUpgrade(false).setHttp2MultiplexingLimit(1000), new PoolOptions().setHttp2MaxSize(4))
        : vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true), new PoolOptions().setHttp1MaxSize(256));
    Call plain = grpc ? new GrpcCall(url) : zipf != null ? new ZipfCall(args[0], zipf) : new JsonCall(url);
    Call call = headers.isEmpty() ? plain : new WithHeaders(plain, headers);
    System.out.println("offered_per_s,achieved_per_s,p50_ms,p90_ms,p99_ms,max_ms,errors,"
        + "admitted_per_s,admitted_p99_ms,shed_per_s,shed_p99_ms,shed_max_ms,other");
    try {
      // The generator's own cold start (JIT, connection pool) would show up as server latency.
      run(vertx, client, call, body, Integer.parseInt(args[3]), 5);
      for (int i = 3; i < args.length; i++) {
        System.out.println(run(vertx, client, call, body, Integer.parseInt(args[i]), seconds));
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** One kind of request: how it is sent, and its answer as an HTTP status. */
  private interface Call {
    RequestOptions options();

    Future<Integer> answer(HttpClientResponse response);
  }

  private static RequestOptions post(URI url, String contentType) {
    return new RequestOptions().setMethod(HttpMethod.POST).setHost(url.getHost()).setPort(url.getPort())
        .setURI(url.getRawPath()).putHeader("content-type", contentType);
  }

  private record JsonCall(RequestOptions options) implements Call {
    JsonCall(URI url) {
      this(post(url, "application/json"));
    }

    @Override
    public Future<Integer> answer(HttpClientResponse response) {
      return response.body().map(response.statusCode());
    }
  }

  /** JSON to a model picked per request: the URL's {model} becomes its name. */
  private record ZipfCall(String template, ZipfModels models) implements Call {
    @Override
    public RequestOptions options() {
      return post(URI.create(template.replace("{model}", models.next())), "application/json");
    }

    @Override
    public Future<Integer> answer(HttpClientResponse response) {
      return response.body().map(response.statusCode());
    }
  }

  /** Another call with headers of its own added. */
  private record WithHeaders(Call call, java.util.Map<String, String> headers) implements Call {
    @Override
    public RequestOptions options() {
      RequestOptions options = new RequestOptions(call.options());
      headers.forEach(options::putHeader);
      return options;
    }

    @Override
    public Future<Integer> answer(HttpClientResponse response) {
      return call.answer(response);
    }
  }

  private record GrpcCall(RequestOptions options) implements Call {
    GrpcCall(URI url) {
      this(post(url, "application/grpc").putHeader("te", "trailers"));
    }

    @Override
    public Future<Integer> answer(HttpClientResponse response) {
      return response.body().map(ignored -> {
        String status = response.getTrailer("grpc-status");
        if (status == null) {
          status = response.getHeader("grpc-status"); // a trailers-only answer
        }
        if (status == null) {
          return 1000; // no gRPC status at all
        }
        return switch (status) {
          case "0" -> 200;
          case "8" -> 429;
          case "14" -> 503;
          default -> 1000 + Integer.parseInt(status);
        };
      });
    }
  }

  private static String run(Vertx vertx, HttpClient client, Call call, Buffer body, int rate, int seconds)
      throws InterruptedException {
    Histogram latencies = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
    Histogram admitted = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
    Histogram shed = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
    AtomicLong errors = new AtomicLong();
    java.util.Map<Integer, Long> others = new java.util.TreeMap<>();
    java.util.Map<Long, Long> othersBySecond = new java.util.TreeMap<>();
    long total = (long) rate * seconds;
    CountDownLatch done = new CountDownLatch(Math.toIntExact(total));
    long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
    long timer = OpenLoopSchedule.start(vertx, rate, total, start, (n, due) ->
        client.request(call.options())
            .compose(req -> req.send(body))
            .compose(call::answer)
            .onComplete(result -> {
              long micros = Math.max(0, (System.nanoTime() - due) / 1_000);
              int status = result.succeeded() ? result.result() : 0;
              synchronized (latencies) {
                latencies.recordValue(micros);
                if (status == 200) {
                  admitted.recordValue(micros);
                } else if (status == 429 || status == 503) {
                  shed.recordValue(micros);
                } else {
                  others.merge(status, 1L, Long::sum);
                  othersBySecond.merge((due - start) / 1_000_000_000L, 1L, Long::sum);
                }
              }
              if (result.failed() || result.result() != 200) {
                errors.incrementAndGet();
              }
              done.countDown();
            }));
    boolean finished = done.await(seconds + 60L, TimeUnit.SECONDS);
    vertx.cancelTimer(timer);
    double elapsed = (System.nanoTime() - start) / 1e9;
    long answered = total - done.getCount();
    synchronized (latencies) {
      long other = others.values().stream().mapToLong(Long::longValue).sum() + (total - answered);
      if (other > 0) {
        System.err.println("at " + rate + "/s, answers neither admitted nor shed by status (0: failed): " + others
            + (total > answered ? ", unanswered: " + (total - answered) : "") + "; by second sent: " + othersBySecond);
      }
      return String.format(Locale.ROOT, "%d,%.0f,%.2f,%.2f,%.2f,%.2f,%d,%.0f,%.2f,%.0f,%.2f,%.2f,%d%s", rate,
          answered / elapsed, latencies.getValueAtPercentile(50) / 1000.0,
          latencies.getValueAtPercentile(90) / 1000.0, latencies.getValueAtPercentile(99) / 1000.0,
          latencies.getMaxValue() / 1000.0, errors.get() + (total - answered),
          admitted.getTotalCount() / elapsed, admitted.getValueAtPercentile(99) / 1000.0,
          shed.getTotalCount() / elapsed, shed.getValueAtPercentile(99) / 1000.0, shed.getMaxValue() / 1000.0,
          other, finished ? "" : " (unfinished)");
    }
  }
}
