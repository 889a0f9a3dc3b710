package io.infergate.app;

import io.infergate.common.bus.BusCodecs;
import io.infergate.common.bus.LocalServables;
import io.infergate.common.registry.ModelRegistry;
import io.infergate.gateway.Drain;
import io.infergate.gateway.GatewayOptions;
import io.infergate.gateway.GatewayVerticle;
import io.infergate.gateway.SharedServices;
import io.infergate.gateway.policy.PolicyServices;
import io.infergate.gateway.admission.Admission;
import io.infergate.gateway.dispatch.ColdStarts;
import io.infergate.gateway.features.FeatureEnricher;
import io.infergate.gateway.features.FeatureStores;
import io.infergate.gateway.readiness.PathWarmup;
import io.infergate.gateway.readiness.Warmth;
import com.hazelcast.core.HazelcastInstance;
import io.infergate.worker.WorkerOptions;
import io.infergate.worker.WorkerVerticle;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import io.vertx.core.Vertx;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Infergate process on a Vert.x instance, local or clustered: a worker, gateways (one
 * verticle per event loop), or both. A worker's models load before the gateways open their
 * ports, as TF Serving does; the gateways then warm their request path up (see
 * {@link PathWarmup}) and report ready once it is warm.
 */
public final class Node {

  private static final Logger LOG = LoggerFactory.getLogger(Node.class);

  private final Vertx vertx;
  private final ModelRegistry registry;
  private final PrometheusMeterRegistry prometheus;
  private final int restPort;
  private final int grpcPort;
  private final FeatureEnricher features;
  private final PolicyServices policy;
  private final WorkerVerticle worker;
  private final Drain drain;
  private final long drainMillis;
  private Future<Void> closing;
  private Future<Void> warm = Future.succeededFuture();

  private Node(Vertx vertx, ModelRegistry registry, PrometheusMeterRegistry prometheus, int restPort, int grpcPort,
               FeatureEnricher features, PolicyServices policy, WorkerVerticle worker, Drain drain, long drainMillis) {
    this.policy = policy;
    this.worker = worker;
    this.drain = drain;
    this.drainMillis = drainMillis;
    this.vertx = vertx;
    this.registry = registry;
    this.prometheus = prometheus;
    this.restPort = restPort;
    this.grpcPort = grpcPort;
    this.features = features;
  }

  /**
   * @param prometheus the process's metrics, which its Vert.x instance already reports into
   * @param worker the worker's options, or null for a gateway-only process
   * @param gateway the gateways' options, or null for a worker-only process
   * @param workerId the id under which the worker's servables are addressed
   * @param cluster this process's cluster member, or null for a single-process server
   */
  static Future<Node> start(Vertx vertx, PrometheusMeterRegistry prometheus, ModelRegistry registry, String workerId,
                            WorkerOptions worker, GatewayOptions gateway, int gatewayInstances,
                            HazelcastInstance cluster) {
    BusCodecs.register(vertx.eventBus());
    AtomicReference<GatewayVerticle> first = new AtomicReference<>();
    LocalServables local = new LocalServables();
    Drain drain = new Drain();
    PathWarmup.Options warmup = gateway == null ? PathWarmup.Options.OFF : gateway.warmup();
    Warmth warmth = new Warmth(warmup.requests() <= 0);
    WorkerVerticle workerVerticle = worker == null ? null
        : new WorkerVerticle(worker, registry, prometheus, workerId, local);
    Future<String> workerStarted = worker == null ? Future.succeededFuture() : vertx.deployVerticle(workerVerticle);
    AtomicReference<FeatureEnricher> features = new AtomicReference<>();
    AtomicReference<PolicyServices> policy = new AtomicReference<>();
    AtomicReference<SharedServices> shared = new AtomicReference<>();
    return workerStarted
        .compose(w -> gateway == null ? Future.succeededFuture() : vertx.executeBlocking(() -> {
          // Opening the stores blocks (connecting to Redis, starting an embedded member): once per process.
          if (gateway.features() != null) {
            features.set(FeatureStores.open(vertx, gateway.features(), cluster, prometheus));
          }
          policy.set(PolicyServices.open(vertx, gateway.policy(), registry, cluster, prometheus));
          return null;
        }))
        .compose(w -> gateway == null ? Future.succeededFuture() : vertx.deployVerticle(() -> {
          GatewayVerticle verticle = new GatewayVerticle(gateway, shared.updateAndGet(existing -> existing != null
              ? existing : new SharedServices(registry, prometheus, features.get(), local, drain, warmth,
                  new Admission(gateway.admission(), prometheus), new ColdStarts(vertx, registry), policy.get())));
          first.compareAndSet(null, verticle);
          return verticle;
        }, new DeploymentOptions().setInstances(gatewayInstances)))
        .map(g -> {
          GatewayVerticle verticle = first.get();
          Node node = new Node(vertx, registry, prometheus, verticle == null ? 0 : verticle.actualPort(),
              verticle == null ? 0 : verticle.actualGrpcPort(), features.get(), policy.get(), workerVerticle, drain,
              gateway == null ? 0 : gateway.shutdownDrainMillis());
          if (verticle != null) {
            LOG.info("Infergate is serving REST on port {} and gRPC on port {}", node.restPort,
                node.grpcPort == 0 ? "(off)" : node.grpcPort);
            node.warm = new PathWarmup(vertx, warmup, gateway, node.restPort, node.grpcPort, 2 * gatewayInstances,
                registry, features.get(), warmth, prometheus).start();
          }
          return node;
        })
        .recover(failure -> {
          if (features.get() != null) {
            features.get().close();
          }
          if (policy.get() != null) {
            policy.get().close();
          }
          // Fail now: a listener on close() would run on an event loop that close() stops.
          vertx.close();
          return Future.failedFuture(failure);
        });
  }

  /** The registry a process's metrics go into; made before its Vert.x instance, which reports into it too. */
  static PrometheusMeterRegistry newMeterRegistry() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
    // Three of Micrometer's JVM meters break Prometheus's naming rules (promtool flags them):
    // units in milli- and nanoseconds (process_cpu_usage covers the CPU), and a gauge ending in _count.
    registry.config()
        .meterFilter(MeterFilter.deny(id -> id.getName().equals("jvm.compilation.time")
            || id.getName().equals("process.cpu.time")))
        .meterFilter(new MeterFilter() {
          @Override
          public Meter.Id map(Meter.Id id) {
            return id.getName().equals("system.cpu.count") ? id.withName("system.cpus") : id;
          }
        });
    return registry;
  }

  public int restPort() {
    return restPort;
  }

  /** The gRPC port, 0 when gRPC is off. */
  public int grpcPort() {
    return grpcPort;
  }

  /** Completes once the gateways' request path is warm (at once without gateways or a warm-up). */
  public Future<Void> warm() {
    return warm;
  }

  public ModelRegistry registry() {
    return registry;
  }

  public Vertx vertx() {
    return vertx;
  }

  /** Whether this process's worker takes traffic (see {@link WorkerVerticle#ready()}); false without a worker. */
  boolean workerReady() {
    return worker != null && worker.ready();
  }

  /** The online features of this process's gateways, or null when none are configured. */
  FeatureEnricher features() {
    return features;
  }

  PrometheusMeterRegistry prometheus() {
    return prometheus;
  }

  /**
   * Reports not ready and keeps serving for the drain time, then stops taking requests, unloads
   * every model and frees its native memory, and leaves the cluster.
   */
  public synchronized Future<Void> close() {
    if (closing != null) {
      return closing;
    }
    drain.begin();
    Future<Void> closed;
    if (drainMillis <= 0) {
      closed = vertx.close();
    } else {
      // Closed from a plain thread: Vert.x cannot close from one of its own event loops.
      Promise<Void> promise = Promise.promise();
      CompletableFuture.runAsync(() -> vertx.close().onComplete(promise),
          CompletableFuture.delayedExecutor(drainMillis, TimeUnit.MILLISECONDS));
      closed = promise.future();
    }
    return closing = closed.onComplete(done -> {
      if (features != null) {
        features.close();
      }
      if (policy != null) {
        policy.close();
      }
    });
  }
}
