package io.infergate.worker;

import io.infergate.common.ServableId;
import io.infergate.common.bus.Addresses;
import io.infergate.common.bus.BusFailures;
import io.infergate.common.registry.ModelRegistry;
import io.infergate.common.status.ServingException;
import io.infergate.proto.serving.ClassificationRequest;
import io.infergate.proto.serving.ModelServerConfig;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.proto.serving.RegressionRequest;
import io.infergate.worker.lifecycle.ModelManager;
import io.infergate.worker.lifecycle.ServableHost;
import io.infergate.worker.runtime.SavedModelServable;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Hosts the servables of one worker: loads them through the {@link ModelManager} and answers
 * each servable's event-bus address by running TensorFlow on the inference executor, never on
 * the event loop.
 */
public final class WorkerVerticle extends VerticleBase implements ServableHost {

  private final WorkerOptions options;
  private final ModelRegistry registry;
  private final Map<ServableId, HostedServable> hosted = new ConcurrentHashMap<>();
  private WorkerExecutor inference;
  private WorkerExecutor loading;
  private ModelManager manager;

  public WorkerVerticle(WorkerOptions options, ModelRegistry registry) {
    this.options = options;
    this.registry = registry;
  }

  @Override
  public Future<?> start() {
    inference = vertx.createSharedWorkerExecutor("infergate-inference", options.inferenceThreads());
    loading = vertx.createSharedWorkerExecutor("infergate-load", options.loadThreads());
    manager = new ModelManager(registry, this, loading, options.sessionOptions(),
        options.allowLabelsForUnavailableModels());
    return manager.apply(options.modelConfig())
        .recover(failure -> manager.shutdown().transform(unloaded -> Future.failedFuture(failure)));
  }

  @Override
  public Future<?> stop() {
    return manager.shutdown().onComplete(done -> {
      inference.close();
      loading.close();
    });
  }

  /** Replaces the served models; used by config reloads. */
  public Future<Void> apply(ModelServerConfig config) {
    return manager.apply(config);
  }

  @Override
  public Future<Void> serve(SavedModelServable servable) {
    HostedServable entry = new HostedServable();
    MessageConsumer<Object> consumer = vertx.eventBus()
        .consumer(Addresses.servable(servable.id()), message -> handle(servable, entry, message));
    entry.consumer = consumer;
    hosted.put(servable.id(), entry);
    return consumer.completion();
  }

  @Override
  public Future<Void> stopServing(ServableId id) {
    HostedServable entry = hosted.remove(id);
    return entry == null ? Future.succeededFuture() : entry.consumer.unregister().compose(v -> entry.drained());
  }

  private void handle(SavedModelServable servable, HostedServable entry, Message<Object> message) {
    Object body = message.body();
    entry.started();
    inference.executeBlocking(() -> run(servable, body), false).onComplete(result -> {
      entry.finished();
      if (result.succeeded()) {
        message.reply(result.result());
      } else {
        BusFailures.reply(message, result.cause());
      }
    });
  }

  /**
   * A servable taking traffic: its consumer and the requests it is running, so that unloading
   * waits for them and never frees a model under a running inference.
   */
  private static final class HostedServable {
    private MessageConsumer<Object> consumer;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Promise<Void> drained = Promise.promise();
    private volatile boolean stopping;

    void started() {
      inFlight.incrementAndGet();
    }

    void finished() {
      if (inFlight.decrementAndGet() == 0 && stopping) {
        drained.tryComplete();
      }
    }

    Future<Void> drained() {
      stopping = true;
      if (inFlight.get() == 0) {
        drained.tryComplete();
      }
      return drained.future();
    }
  }

  private static Object run(SavedModelServable servable, Object request) {
    if (request instanceof PredictRequest predict) {
      return servable.predict(predict);
    }
    if (request instanceof ClassificationRequest classify) {
      return servable.classify(classify);
    }
    if (request instanceof RegressionRequest regress) {
      return servable.regress(regress);
    }
    throw ServingException.invalidArgument("Unsupported request type " + request.getClass().getName());
  }
}
