package io.infergate.gateway.readiness;

import io.infergate.common.Signatures;
import io.infergate.common.SyntheticInputs;
import io.infergate.common.metrics.MetricNames;
import io.infergate.common.registry.ModelRegistry;
import io.infergate.common.registry.ModelView;
import io.infergate.gateway.GatewayOptions;
import io.infergate.gateway.TlsOptions;
import io.infergate.gateway.features.FeatureEnricher;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.PemKeyCertOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.proto.SignatureDef;

/**
 * Makes a fresh gateway process warm before it reports ready: once every model has a version
 * that takes traffic, it sends made-up requests for each model through the process's own REST
 * and gRPC listeners, over every protocol, so that the JSON and protobuf decoders and encoders,
 * routing, the feature store, the event bus to the workers and the models' first runs have all
 * been through the JIT and their lazy set-up before a load balancer sends real traffic. Several
 * connections at once, so every event loop takes its share. Bounded in time: past the bound the
 * process reports ready anyway, and says so. Its requests count in the request metrics like any
 * others; its progress is in the log and in {@code infergate_warmup_*}.
 */
public final class PathWarmup {

  private static final Logger LOG = LoggerFactory.getLogger(PathWarmup.class);
  private static final long WAIT_FOR_MODELS_MILLIS = 100;
  private static final long PROGRESS_LOG_MILLIS = 1_000;

  /**
   * @param requests how many times each kind of warm-up request is sent; 0 switches the warm-up off
   * @param timeoutMillis the warm-up's bound, from its first request
   */
  public record Options(int requests, long timeoutMillis) {
    public static final Options OFF = new Options(0, 0);
  }

  private final Vertx vertx;
  private final Options options;
  private final GatewayOptions gateway;
  private final int restPort;
  private final int grpcPort;
  private final int connections;
  private final ModelRegistry registry;
  private final FeatureEnricher features;
  private final Warmth warmth;
  private final MeterRegistry meters;
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> outcomes = new ConcurrentHashMap<>();
  private final AtomicInteger done = new AtomicInteger();
  private volatile int total;

  /**
   * @param restPort the REST port the gateways listen on
   * @param grpcPort their gRPC port, 0 for none
   * @param connections how many requests are in flight at once, each on a connection of its own
   * @param features the process's online features, or null
   */
  public PathWarmup(Vertx vertx, Options options, GatewayOptions gateway, int restPort, int grpcPort, int connections,
                    ModelRegistry registry, FeatureEnricher features, Warmth warmth, MeterRegistry meters) {
    this.vertx = vertx;
    this.options = options;
    this.gateway = gateway;
    this.restPort = restPort;
    this.grpcPort = grpcPort;
    this.connections = connections;
    this.registry = registry;
    this.features = features;
    this.warmth = warmth;
    this.meters = meters;
    // Held strongly: nothing else keeps a finished warm-up, and a gauge of a collected one reads NaN.
    Gauge.builder(MetricNames.WARMUP_PROGRESS, this, PathWarmup::progress)
        .description("Share of the warm-up's requests answered or failed; 1 once the process is warm")
        .strongReference(true)
        .register(meters);
  }

  private double progress() {
    return warmth.isWarm() ? 1 : total == 0 ? 0 : (double) done.get() / total;
  }

  /** Waits for the models, warms the path up, then reports the process warm. Completes when warm. */
  public Future<Void> start() {
    if (options.requests() <= 0) {
      warmth.reached();
      return Future.succeededFuture();
    }
    return modelsReady().compose(ready -> warmUp()).onComplete(warm -> warmth.reached());
  }

  /** Completes once this member sees the cluster and every model it knows has a version taking traffic. */
  private Future<Void> modelsReady() {
    Promise<Void> ready = Promise.promise();
    vertx.setPeriodic(0, WAIT_FOR_MODELS_MILLIS, timer -> {
      if (registry.isConnected() && registry.snapshot().allModelsSettled()) {
        vertx.cancelTimer(timer);
        ready.complete();
      }
    });
    return ready.future();
  }

  private Future<Void> warmUp() {
    List<WarmupCall> calls = calls();
    if (calls.isEmpty()) {
      LOG.info("No model to warm the request path up with; reporting ready");
      return Future.succeededFuture();
    }
    total = calls.size() * options.requests();
    long started = System.nanoTime();
    LOG.info("Warming the request path up before reporting ready: {} requests ({} kinds, {} each) to {} over {} "
        + "connections, for {} s at most", total, calls.size(), options.requests(),
        calls.stream().map(WarmupCall::model).distinct().toList(), connections, options.timeoutMillis() / 1000.0);
    HttpClient rest = client(false);
    HttpClient grpc = client(true);
    long progressTimer = vertx.setPeriodic(PROGRESS_LOG_MILLIS, timer -> LOG.info("Warm-up: {} of {} requests after {} ms",
        done.get(), total, (System.nanoTime() - started) / 1_000_000));
    long deadline = started + options.timeoutMillis() * 1_000_000;
    AtomicInteger next = new AtomicInteger();
    List<Future<Void>> lanes = new ArrayList<>();
    for (int i = 0; i < connections; i++) {
      Promise<Void> lane = Promise.promise();
      lanes.add(lane.future());
      lane(calls, next, deadline, rest, grpc, lane);
    }
    Promise<Void> finished = Promise.promise();
    Future.join(lanes).onComplete(all -> finished.tryComplete());
    long bound = vertx.setTimer(Math.max(1, options.timeoutMillis()), timer -> {
      if (finished.tryComplete()) {
        LOG.warn("The warm-up reached its bound of {} ms after {} of {} requests; reporting ready anyway",
            options.timeoutMillis(), done.get(), total);
      }
    });
    return finished.future().onComplete(warm -> {
      vertx.cancelTimer(progressTimer);
      vertx.cancelTimer(bound);
      LOG.info("Warm after {} ms, {} requests: {}", (System.nanoTime() - started) / 1_000_000, done.get(),
          new TreeMap<>(outcomes));
      rest.close();
      grpc.close();
    });
  }

  /**
   * Sends the next request in turn, and the next once it is answered, until all are sent or the
   * bound has passed; then completes {@code done}. One request at a time per lane.
   */
  private void lane(List<WarmupCall> calls, AtomicInteger next, long deadline, HttpClient rest, HttpClient grpc,
                    Promise<Void> done) {
    int n = next.getAndIncrement();
    if (n >= total || System.nanoTime() > deadline) {
      done.tryComplete();
      return;
    }
    WarmupCall call = calls.get(n % calls.size());
    send(call, call.grpc() ? grpc : rest, n).onComplete(outcome -> {
      record(call, outcome.succeeded() ? outcome.result() : "failed");
      lane(calls, next, deadline, rest, grpc, done);
    });
  }

  /** The answer's status: the HTTP status, or for gRPC its grpc-status. */
  private Future<String> send(WarmupCall call, HttpClient client, int n) {
    Buffer body = call.body().apply(n);
    RequestOptions request = new RequestOptions().setMethod(HttpMethod.POST).setURI(call.path())
        .setIdleTimeout(Math.max(1_000, options.timeoutMillis()))
        .putHeader("content-type", call.grpc() ? "application/grpc" : "application/json");
    if (call.grpc()) {
      request.putHeader("te", "trailers");
    }
    return client.request(request)
        .compose(sent -> sent.send(body))
        .compose(response -> response.body().map(ignored -> status(call, response)));
  }

  private static String status(WarmupCall call, HttpClientResponse response) {
    if (!call.grpc()) {
      return Integer.toString(response.statusCode());
    }
    String status = response.trailers().get("grpc-status");
    return "grpc-" + (status == null ? response.headers().get("grpc-status") : status);
  }

  private void record(WarmupCall call, String status) {
    done.incrementAndGet();
    outcomes.computeIfAbsent(call.protocol() + " " + status, key -> new LongAdder()).increment();
    String outcome = status.equals("failed") ? "failed"
        : status.equals("200") || status.equals("grpc-0") ? "ok" : "error_status";
    counters.computeIfAbsent(call.protocol() + '\0' + outcome, key -> Counter.builder(MetricNames.WARMUP_REQUESTS)
            .description("Requests the warm-up sent through the process's own listeners, by how they ended")
            .tags("protocol", call.protocol(), "outcome", outcome).register(meters))
        .increment();
  }

  /** The kinds of request for every model with a version taking traffic and a signature to make inputs up for. */
  private List<WarmupCall> calls() {
    List<WarmupCall> calls = new ArrayList<>();
    for (ModelView model : registry.snapshot().models().values()) {
      model.latestAvailable().ifPresent(record -> {
        SignatureDef signature = record.signatures().getSignatureDefMap().get(Signatures.DEFAULT_KEY);
        var inputs = signature == null ? java.util.Optional.<List<SyntheticInputs.Input>>empty()
            : SyntheticInputs.of(signature, Set.of());
        if (inputs.isEmpty()) {
          LOG.info("Model {} has no serving_default signature with inputs the warm-up can make up; not warmed up",
              model.name());
          return;
        }
        FeatureEnricher.Plan plan = features == null ? null : features.plan(model.name(), Set.of());
        List<WarmupCall> forModel = WarmupCalls.of(model.name(), inputs.get(),
            plan == null ? Set.of() : plan.inputs(), plan == null ? Set.of() : plan.entityFields());
        forModel.stream().filter(call -> grpcPort != 0 || !call.grpc()).forEach(calls::add);
      });
    }
    return calls;
  }

  /**
   * A client of this process's own listeners: HTTP/1.1 for REST, HTTP/2 for gRPC, with one
   * request per connection at a time so that the connections spread over the event loops. With
   * TLS it trusts the listener (it is this process) and shows the listener's own certificate
   * when clients must show one.
   */
  private HttpClient client(boolean http2) {
    GatewayOptions.Listen listen = gateway.listen();
    HttpClientOptions client = new HttpClientOptions()
        .setDefaultHost(loopback(http2 ? listen.grpcHost() : listen.restHost()))
        .setDefaultPort(http2 ? grpcPort : restPort);
    if (http2) {
      client.setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false).setHttp2MultiplexingLimit(1);
    }
    TlsOptions tls = gateway.tls();
    if (tls != null) {
      client.setSsl(true).setTrustAll(true).setVerifyHost(false).setUseAlpn(http2)
          .setKeyCertOptions(new PemKeyCertOptions().setCertValue(Buffer.buffer(tls.certPem()))
              .setKeyValue(Buffer.buffer(tls.keyPem())));
    }
    return vertx.createHttpClient(client, new PoolOptions().setHttp1MaxSize(connections).setHttp2MaxSize(connections));
  }

  /** Where to reach a listener from this process: the loopback address for one bound to every interface. */
  private static String loopback(String host) {
    return host == null || host.isEmpty() || host.equals("0.0.0.0") || host.equals("::") ? "127.0.0.1" : host;
  }
}
