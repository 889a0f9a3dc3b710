package io.infergate.worker;

import com.google.protobuf.Message;
import io.infergate.common.Priority;
import io.infergate.common.ServableId;
import io.infergate.common.bus.Addresses;
import io.infergate.common.bus.BusFailures;
import io.infergate.common.bus.Frames;
import io.infergate.common.bus.LocalServables;
import io.infergate.common.registry.ModelRegistry;
import io.infergate.common.status.ServingException;
import io.infergate.proto.frames.FramedReply;
import io.infergate.proto.frames.FramedRequest;
import io.infergate.proto.frames.ReplyFrame;
import io.infergate.proto.frames.RequestFrame;
import io.infergate.common.status.StatusCode;
import io.infergate.proto.serving.BatchingParameters;
import io.infergate.proto.serving.ModelConfig;
import io.infergate.proto.serving.ModelServerConfig;
import io.infergate.proto.serving.ReloadConfigRequest;
import io.infergate.proto.serving.ReloadConfigResponse;
import io.infergate.proto.serving.StatusProto;
import io.infergate.common.config.ConfigException;
import org.tensorflow.proto.error.Code;
import io.infergate.worker.batching.BatchConfig;
import io.infergate.worker.batching.BatchQueue;
import io.infergate.worker.batching.BatchRunner;
import io.infergate.worker.batching.BatchScheduler;
import io.infergate.worker.lifecycle.ModelManager;
import io.infergate.worker.lifecycle.ModelServerConfigs;
import io.infergate.worker.lifecycle.PagedModels;
import io.infergate.worker.lifecycle.ServableHost;
import io.infergate.worker.runtime.GpuMetrics;
import io.infergate.worker.runtime.PreparedCall;
import io.infergate.worker.runtime.LoadedModel;
import io.infergate.worker.runtime.SavedModelLoader;
import io.infergate.worker.runtime.SavedModelServable;
import io.infergate.common.metrics.MetricNames;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hosts the servables of one worker: the {@link ModelManager} loads them, and each servable's
 * event-bus address is answered by running TensorFlow off the event loop, either through the
 * servable's batch queue (batching on) or on the inference executor. Also drives the file
 * system and config polls.
 */
public final class WorkerVerticle extends VerticleBase implements ServableHost<LoadedModel> {

  private static final Logger LOG = LoggerFactory.getLogger(WorkerVerticle.class);
  /** How long an unloading servable keeps refusing requests before its consumer goes: the registry's change reaches every gateway well within it. */
  private static final long UNREGISTER_GRACE_MILLIS = 1_000;

  private final WorkerOptions options;
  private final ModelRegistry registry;
  private final String workerId;
  private final MeterRegistry meters;
  private final LocalServables local;
  private final Map<ServableId, HostedServable> hosted = new ConcurrentHashMap<>();
  private WorkerExecutor inference;
  private WorkerExecutor loading;
  private BatchScheduler scheduler;
  private ModelManager<LoadedModel> manager;
  private PagedModels paging;
  /** Requests served for pageable models: with the loads, the hit ratio of the pool. */
  private Counter pagingRequests;
  private ModelServerConfig lastFileConfig;
  /** Between the first config's load and the start of shutdown. */
  private volatile boolean serving;

  /**
   * @param workerId this worker's node id: its servables' addresses end with it
   * @param local where this process's gateways find the servables to call them directly
   */
  public WorkerVerticle(WorkerOptions options, ModelRegistry registry, MeterRegistry meters, String workerId,
                        LocalServables local) {
    this.options = options;
    this.local = local;
    this.registry = registry;
    this.workerId = workerId;
    this.meters = meters;
  }

  @Override
  public Future<?> start() {
    inference = vertx.createSharedWorkerExecutor("infergate-inference", options.inferenceThreads());
    loading = vertx.createSharedWorkerExecutor("infergate-load", options.loadThreads());
    if (options.batching() != null) {
      int threads = batchConfig(options.batching()).numBatchThreads();
      scheduler = new BatchScheduler(threads, meters);
    }
    manager = new ModelManager<>(vertx, registry, new SavedModelLoader(options.loader()), this, loading,
        options.lifecycle(), meters);
    pagingRequests = Counter.builder(MetricNames.PAGING_REQUESTS)
        .description("Requests served for pageable models (1 - loads / requests is their hit ratio)")
        .register(meters);
    paging = new PagedModels(vertx, manager, registry, this, workerId, options.lifecycle().memoryBudgetBytes(),
        options.lifecycle().defaultPaging(), meters);
    vertx.eventBus().<String>consumer(Addresses.pageIn(workerId), message -> paging.pageIn(message.body())
        .onSuccess(v -> message.reply(message.body()))
        .onFailure(failure -> BusFailures.reply(message, failure)));
    GpuMetrics.start(vertx, loading, meters);
    lastFileConfig = options.modelConfig();
    for (String address : List.of(Addresses.RELOAD_CONFIG, Addresses.reloadConfig(workerId))) {
      vertx.eventBus().<ReloadConfigRequest>consumer(address, message -> reload(message.body().getConfig())
          .onSuccess(v -> message.reply(ReloadConfigResponse.newBuilder()
              .setStatus(StatusProto.newBuilder().setErrorCode(Code.OK)).build()))
          .onFailure(failure -> BusFailures.reply(message, failure)));
    }
    return paging.apply(options.modelConfig(), true)
        .onSuccess(v -> {
          serving = true;
          startPolling();
        })
        .recover(failure -> manager.shutdown().transform(unloaded -> Future.failedFuture(failure)));
  }

  @Override
  public Future<?> stop() {
    serving = false;
    return manager.shutdown()
        .transform(done -> scheduler == null ? Future.succeededFuture()
            : Future.fromCompletionStage(scheduler.close(), context))
        .transform(done -> Future.join(inference.close(), loading.close()));
  }

  /**
   * Ready for traffic (Kubernetes' readiness probe): the first config has loaded, the worker is a
   * connected cluster member, and every model it is told to serve has a version taking requests
   * here. Safe to call from any thread.
   */
  public boolean ready() {
    return serving && registry.isConnected() && manager.modelNames().stream().allMatch(this::hostsVersionOf);
  }

  private boolean hostsVersionOf(String model) {
    return hosted.values().stream().anyMatch(entry -> entry.servable.id().name().equals(model) && !entry.stopping);
  }

  @Override
  public int requestsInFlight(String model) {
    return hosted.values().stream().filter(entry -> entry.servable.id().name().equals(model))
        .mapToInt(entry -> entry.inFlight.get()).sum();
  }

  @Override
  public long lastUsedNanos(String model) {
    return hosted.values().stream().filter(entry -> entry.servable.id().name().equals(model))
        .mapToLong(entry -> entry.lastUsed).max().orElse(Long.MIN_VALUE);
  }

  /**
   * Realises a config sent by a client (gRPC's HandleReloadConfigRequest): a model outside the
   * allowed roots is refused (PERMISSION_DENIED) before anything on disk is looked at; a config
   * that does not validate is refused whole (INVALID_ARGUMENT); a label on a version that is not
   * available fails the call (FAILED_PRECONDITION) once the models themselves have been applied.
   */
  private Future<Void> reload(ModelServerConfig config) {
    // Validation looks at the base paths on disk, so it runs on the load threads.
    return loading.<ModelServerConfig>executeBlocking(() -> {
          options.allowedRoots().check(config);
          return ModelServerConfigs.validated(config);
        }, false)
        .recover(invalid -> Future.failedFuture(invalid instanceof ConfigException
            ? ServingException.invalidArgument(invalid.getMessage()) : invalid))
        .compose(validated -> {
          LOG.info("Applying a model config sent by a client ({} models)",
              validated.getModelConfigList().getConfigCount());
          return paging.apply(validated, true).recover(failure -> Future.failedFuture(
              failure instanceof ConfigException
                  ? new ServingException(StatusCode.FAILED_PRECONDITION, failure.getMessage()) : failure));
        });
  }

  private void startPolling() {
    if (options.fileSystemPollSeconds() > 0) {
      vertx.setPeriodic(options.fileSystemPollSeconds() * 1000L, id -> manager.pollFileSystem());
    }
    if (options.modelConfigFile() != null && options.configPollSeconds() > 0) {
      vertx.setPeriodic(options.configPollSeconds() * 1000L, id -> reloadConfigFile());
    }
  }

  /** Re-reads the config file; a file that does not parse or validate is logged and ignored. */
  private void reloadConfigFile() {
    loading.executeBlocking(() -> ModelServerConfigs.validated(ModelServerConfigs.read(options.modelConfigFile())), false)
        .onFailure(failure -> LOG.error("Ignoring the changed model config {}: {}", options.modelConfigFile(),
            failure.getMessage()))
        .onSuccess(config -> {
          // Only a change of the file is applied, so a config sent by a client is not undone.
          if (!config.equals(lastFileConfig)) {
            LOG.info("Model config {} changed; applying it", options.modelConfigFile());
            lastFileConfig = config;
            paging.apply(config, false);
          }
        });
  }

  @Override
  public Future<Void> serve(LoadedModel loaded) {
    SavedModelServable servable = loaded.servable();
    BatchingParameters perModelBatching = loaded.batching();
    BatchQueue queue = null;
    long target = paging.config(servable.id().name()).map(ModelConfig::getLatencyTargetMicros).orElse(0L);
    if (scheduler != null) {
      BatchConfig config = batchConfig(perModelBatching != null ? perModelBatching : options.batching())
          .withLatencyTarget(target);
      queue = scheduler.addQueue(servable.id(), config, BatchRunner.of(servable));
    } else if (target > 0) {
      LOG.warn("Model {} declares a latency target, which only batching can hold: start the worker with "
          + "--enable_batching", servable.id().name());
    }
    HostedServable entry = new HostedServable(servable, queue,
        paging.pageableModels().contains(servable.id().name()) ? pagingRequests : null);
    String address = Addresses.servable(servable.id(), workerId);
    entry.consumer = vertx.eventBus().consumer(address, entry::handle);
    hosted.put(servable.id(), entry);
    return entry.consumer.completion().onSuccess(v -> local.register(address, entry::serve));
  }

  @Override
  public Future<Void> stopServing(ServableId id) {
    HostedServable entry = hosted.remove(id);
    if (entry == null) {
      return Future.succeededFuture();
    }
    local.unregister(Addresses.servable(id, workerId));
    return entry.stop();
  }

  private BatchConfig batchConfig(BatchingParameters parameters) {
    return BatchConfig.of(parameters, Runtime.getRuntime().availableProcessors());
  }

  /**
   * A servable taking traffic: its consumer, its batch queue (if batching), and the requests it
   * is running, so that unloading waits for them and never frees a model under an inference.
   */
  private final class HostedServable {
    private final SavedModelServable servable;
    private final BatchQueue queue;
    /** Counts this version's requests when its model is pageable; null otherwise. */
    private final Counter pagingRequests;
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile long lastUsed = System.nanoTime();
    private final Gauge inFlightGauge;
    private final Promise<Void> drained = Promise.promise();
    private volatile boolean stopping;
    private MessageConsumer<Object> consumer;

    HostedServable(SavedModelServable servable, BatchQueue queue, Counter pagingRequests) {
      this.servable = servable;
      this.queue = queue;
      this.pagingRequests = pagingRequests;
      // What an autoscaler reads: requests this worker holds for the version, queued or running.
      this.inFlightGauge = Gauge.builder(MetricNames.WORKER_REQUESTS_IN_FLIGHT, inFlight, AtomicInteger::get)
          .description("Requests a worker holds for a version, waiting for a batch or running")
          .tags("model", servable.id().name(), "version", Long.toString(servable.id().version()))
          .register(meters);
    }

    /**
     * A frame of requests that came over the event bus: each request runs as if it came alone
     * (with batching, they meet in the batch queue), and the frame is answered when the last is.
     */
    void handle(io.vertx.core.eventbus.Message<Object> message) {
      if (stopping) {
        BusFailures.stopping(message, servable.id().toString());
        return;
      }
      if (!(message.body() instanceof RequestFrame frame)) {
        BusFailures.reply(message, ServingException.invalidArgument("A servable takes frames of requests only"));
        return;
      }
      int count = frame.getRequestsCount();
      FramedReply[] replies = new FramedReply[count];
      // Each answer is written before the count goes down, so whoever takes it to zero sees them all.
      AtomicInteger unanswered = new AtomicInteger(count);
      if (count == 0) {
        message.reply(ReplyFrame.getDefaultInstance());
      }
      long now = System.nanoTime();
      for (int i = 0; i < count; i++) {
        FramedRequest framed = frame.getRequests(i);
        int index = i;
        LocalServables.Reply answer = (response, failure) -> {
          replies[index] = Frames.reply(response, failure);
          if (unanswered.decrementAndGet() == 0) {
            message.reply(ReplyFrame.newBuilder().addAllReplies(Arrays.asList(replies)).build());
          }
        };
        Object request;
        Priority priority;
        try {
          request = Frames.request(framed);
          priority = Priority.ofLevel(framed.getPriority(), Priority.NORMAL);
        } catch (ServingException e) {
          answer.send(null, e);
          continue;
        }
        serve(request, now + framed.getTimeoutMillis() * 1_000_000, priority, answer);
      }
    }

    /**
     * Runs one request and answers it. With batching, the batch thread that ran it builds and
     * sends the answer itself: going back to this verticle's event loop first would cost a
     * thread hop per request for nothing.
     */
    void serve(Object request, long deadline, Priority priority, LocalServables.Reply reply) {
      inFlight.incrementAndGet();
      lastUsed = System.nanoTime();
      if (pagingRequests != null) {
        pagingRequests.increment();
      }
      LocalServables.Reply once = (response, failure) -> {
        finished();
        reply.send(response, failure instanceof CompletionException wrapped && wrapped.getCause() != null
            ? wrapped.getCause() : failure);
      };
      if (queue == null) {
        direct(request, deadline).onComplete(result -> once.send(result.result(), result.cause()));
        return;
      }
      try {
        PreparedCall call = servable.prepare(request);
        queue.submit(call.run(), deadline, priority).thenApply(call::finish).whenComplete(once::send);
      } catch (RuntimeException e) {
        once.send(null, e);
      }
    }

    private Future<Message> direct(Object request, long deadline) {
      return inference.executeBlocking(() -> {
        if (System.nanoTime() - deadline > 0) {
          throw new ServingException(StatusCode.DEADLINE_EXCEEDED, "Deadline exceeded before the request ran");
        }
        return servable.call(request);
      }, false);
    }

    private void finished() {
      if (inFlight.decrementAndGet() == 0 && stopping) {
        drained.tryComplete();
      }
    }

    /**
     * Refuses new requests at once (the gateway sends them elsewhere), waits for those running,
     * and only then unregisters the consumer, a while later: Vert.x drops the messages a consumer
     * holds when it is unregistered, unanswered, and their callers would wait for their deadline.
     */
    Future<Void> stop() {
      stopping = true;
      meters.remove(inFlightGauge);
      if (inFlight.get() == 0) {
        drained.tryComplete();
      }
      return drained.future()
          .compose(v -> {
            Promise<Void> quiet = Promise.promise();
            vertx.setTimer(UNREGISTER_GRACE_MILLIS, id -> quiet.complete());
            return quiet.future();
          })
          .compose(v -> consumer.unregister())
          .compose(v -> queue == null ? Future.succeededFuture()
              : Future.fromCompletionStage(queue.close(), context));
    }
  }
}
