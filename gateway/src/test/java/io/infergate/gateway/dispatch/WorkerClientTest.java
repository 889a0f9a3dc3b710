package io.infergate.gateway.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import io.infergate.common.Priority;
import io.infergate.common.ServableId;
import io.infergate.common.TensorLimits;
import io.infergate.common.bus.Addresses;
import io.infergate.common.bus.BusCodecs;
import io.infergate.common.bus.Frames;
import io.infergate.common.bus.LocalServables;
import io.infergate.common.registry.LocalModelRegistry;
import io.infergate.common.registry.ServableRecord;
import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.infergate.gateway.admission.Admission;
import io.infergate.gateway.admission.ExpiryWatch;
import io.infergate.proto.frames.FramedRequest;
import io.infergate.proto.frames.ReplyFrame;
import io.infergate.proto.frames.RequestFrame;
import io.infergate.proto.serving.ModelSpec;
import io.infergate.proto.serving.ModelVersionStatus.State;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.proto.serving.PredictResponse;
import io.infergate.proto.serving.SignatureDefMap;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class WorkerClientTest {

  private static final ServableId SERVABLE = new ServableId("m", 1);
  private static final PredictRequest REQUEST = named("m");

  /**
   * A request routed from a snapshot that still listed a worker the registry has dropped since
   * (it shut down or left while the request was being routed) goes to a worker that serves,
   * instead of waiting for an answer that will never come until its deadline.
   */
  @Test
  void aRequestRoutedToAWorkerTheRegistryJustDroppedIsServedElsewhereAtOnce(Vertx vertx, VertxTestContext test) {
    LocalModelRegistry registry = new LocalModelRegistry();
    registry.publish(ServableRecord.available(SERVABLE, SignatureDefMap.getDefaultInstance())).await();
    ServableRecord current = registry.snapshot().model("m").orElseThrow().versions().get(1L);
    ServableRecord stale = new ServableRecord(SERVABLE, State.AVAILABLE, StatusCode.OK, "",
        SignatureDefMap.getDefaultInstance(), List.of("departed"), java.util.Map.of(), 0, java.util.Map.of());
    AtomicInteger reachedDeparted = new AtomicInteger();
    // The departed worker's consumer takes the message and never answers, as a process that died with it.
    vertx.eventBus().consumer(Addresses.servable(SERVABLE, "departed"), message -> reachedDeparted.incrementAndGet());
    answerEachWith(vertx, SERVABLE, LocalModelRegistry.LOCAL_WORKER);
    WorkerClient client = client(vertx, registry);
    long sent = System.nanoTime();
    client.<PredictResponse>request(stale, () -> current, REQUEST, sent + TimeUnit.SECONDS.toNanos(30), Priority.NORMAL)
        .onComplete(test.succeeding(served -> test.verify(() -> {
          assertThat(served.response().getModelSpec().getName()).isEqualTo("served by local");
          assertThat(reachedDeparted.get()).isZero();
          assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent)).as("not at the deadline")
              .isLessThan(5_000);
          test.completeNow();
        })));
  }

  /** A worker that takes a request and never answers: the request fails with DEADLINE_EXCEEDED at its deadline. */
  @Test
  void aRequestAWorkerNeverAnswersFailsAtItsDeadline(Vertx vertx, VertxTestContext test) {
    // A servable of its own: no other test's consumer may answer on its address.
    ServableId silent = new ServableId("silent", 1);
    LocalModelRegistry registry = new LocalModelRegistry();
    registry.publish(ServableRecord.available(silent, SignatureDefMap.getDefaultInstance())).await();
    ServableRecord servable = registry.snapshot().model("silent").orElseThrow().versions().get(1L);
    vertx.eventBus().consumer(Addresses.servable(silent, LocalModelRegistry.LOCAL_WORKER), message -> { })
        .completion().await();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
    client(vertx, registry).<PredictResponse>request(servable, () -> servable, REQUEST, deadline, Priority.NORMAL)
        .onComplete(test.failing(failure -> test.verify(() -> {
          assertThat(ServingException.of(failure).code())
              .isEqualTo(StatusCode.DEADLINE_EXCEEDED);
          assertThat(System.nanoTime()).as("not before the deadline").isGreaterThanOrEqualTo(deadline);
          test.completeNow();
        })));
  }

  /** A worker with no handler for the servable (a version being swapped): routed afresh and sent once more. */
  @Test
  void aRequestNoHandlerTookIsRoutedAfreshOnce(Vertx vertx, VertxTestContext test) {
    // Versions of their own: no other test's consumer may take the request for the one without a handler.
    LocalModelRegistry registry = new LocalModelRegistry();
    ServableId swapped = new ServableId("swapped", 1);
    ServableId next = new ServableId("swapped", 2);
    registry.publish(ServableRecord.available(swapped, SignatureDefMap.getDefaultInstance())).await();
    registry.publish(ServableRecord.available(next, SignatureDefMap.getDefaultInstance())).await();
    ServableRecord gone = registry.snapshot().model("swapped").orElseThrow().versions().get(1L);
    ServableRecord serving = registry.snapshot().model("swapped").orElseThrow().versions().get(2L);
    answerEachWith(vertx, next, LocalModelRegistry.LOCAL_WORKER);
    AtomicInteger routes = new AtomicInteger();
    client(vertx, registry).<PredictResponse>request(gone, () -> {
          routes.incrementAndGet();
          return serving;
        }, REQUEST, System.nanoTime() + TimeUnit.SECONDS.toNanos(30), Priority.NORMAL)
        .onComplete(test.succeeding(served -> test.verify(() -> {
          assertThat(served.response().getModelSpec().getName()).isEqualTo("served by local");
          assertThat(served.servable()).isEqualTo(next);
          assertThat(routes.get()).isEqualTo(1);
          test.completeNow();
        })));
  }

  /**
   * The requests sent in one event-loop turn to one worker's servable travel in one frame, and
   * each gets its own answer, a failure included.
   */
  @Test
  void requestsOfOneTurnTravelInOneFrameAndEachGetsItsOwnAnswer(Vertx vertx, VertxTestContext test) {
    LocalModelRegistry registry = new LocalModelRegistry();
    registry.publish(ServableRecord.available(SERVABLE, SignatureDefMap.getDefaultInstance())).await();
    ServableRecord servable = registry.snapshot().model("m").orElseThrow().versions().get(1L);
    List<Integer> frameSizes = new java.util.concurrent.CopyOnWriteArrayList<>();
    vertx.eventBus().<RequestFrame>consumer(Addresses.servable(SERVABLE, LocalModelRegistry.LOCAL_WORKER), message -> {
      frameSizes.add(message.body().getRequestsCount());
      ReplyFrame.Builder replies = ReplyFrame.newBuilder();
      for (FramedRequest framed : message.body().getRequestsList()) {
        String name = framed.getPredict().getModelSpec().getName();
        replies.addReplies(name.equals("refused")
            ? Frames.reply(null, ServingException.invalidArgument("refused on its own"))
            : Frames.reply(PredictResponse.newBuilder().setModelSpec(ModelSpec.newBuilder().setName("answer to " + name)).build(), null));
      }
      message.reply(replies.build());
    });
    WorkerClient client = client(vertx, registry);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    vertx.runOnContext(turn -> {
      List<Future<WorkerClient.Served<PredictResponse>>> sent = java.util.stream.Stream.of("a", "refused", "b")
          .map(name -> client.<PredictResponse>request(servable, () -> servable, named(name), deadline, Priority.NORMAL))
          .toList();
      Future.join(sent).onComplete(done -> test.verify(() -> {
        assertThat(frameSizes).as("one frame for the turn").containsExactly(3);
        assertThat(sent.get(0).result().response().getModelSpec().getName()).isEqualTo("answer to a");
        assertThat(ServingException.of(sent.get(1).cause()).code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
        assertThat(sent.get(1).cause()).hasMessage("refused on its own");
        assertThat(sent.get(2).result().response().getModelSpec().getName()).isEqualTo("answer to b");
        test.completeNow();
      }));
    });
  }

  /**
   * This process's own worker answers on its batch thread, all at once: every answer is handed
   * back to the event loop that sent its request, and each request gets its own.
   */
  @Test
  void answersOfThisProcesssWorkerComeBackOnTheSendingEventLoop(Vertx vertx, VertxTestContext test) {
    LocalModelRegistry registry = new LocalModelRegistry();
    registry.publish(ServableRecord.available(SERVABLE, SignatureDefMap.getDefaultInstance())).await();
    ServableRecord servable = registry.snapshot().model("m").orElseThrow().versions().get(1L);
    LocalServables local = new LocalServables();
    List<Runnable> held = new java.util.concurrent.CopyOnWriteArrayList<>();
    local.register(Addresses.servable(SERVABLE, LocalModelRegistry.LOCAL_WORKER), (request, deadline, priority, reply) ->
        held.add(() -> reply.send(PredictResponse.newBuilder().setModelSpec(((PredictRequest) request).getModelSpec())
            .build(), null)));
    WorkerClient client = client(vertx, registry, local);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    vertx.runOnContext(turn -> {
      Thread loop = Thread.currentThread();
      List<Thread> completedOn = new java.util.concurrent.CopyOnWriteArrayList<>();
      List<Future<WorkerClient.Served<PredictResponse>>> sent = java.util.stream.IntStream.range(0, 100)
          .mapToObj(i -> client.<PredictResponse>request(servable, () -> servable, named("r" + i), deadline, Priority.NORMAL)
              .onComplete(done -> completedOn.add(Thread.currentThread())))
          .toList();
      // The "batch thread": answers every request at once, off the event loop.
      new Thread(() -> held.forEach(Runnable::run)).start();
      Future.all(sent).onComplete(test.succeeding(done -> test.verify(() -> {
        for (int i = 0; i < sent.size(); i++) {
          assertThat(sent.get(i).result().response().getModelSpec().getName()).isEqualTo("r" + i);
        }
        assertThat(completedOn).hasSize(100).containsOnly(loop);
        test.completeNow();
      })));
    });
  }

  private static PredictRequest named(String name) {
    return PredictRequest.newBuilder().setModelSpec(ModelSpec.newBuilder().setName(name)).build();
  }

  /** A worker's consumer for {@code servable} that answers every request of a frame with a response named after it. */
  private static void answerEachWith(Vertx vertx, ServableId servable, String worker) {
    vertx.eventBus().<RequestFrame>consumer(Addresses.servable(servable, worker), message -> {
      ReplyFrame.Builder replies = ReplyFrame.newBuilder();
      message.body().getRequestsList().forEach(framed -> replies.addReplies(Frames.reply(PredictResponse.newBuilder()
          .setModelSpec(ModelSpec.newBuilder().setName("served by " + worker)).build(), null)));
      message.reply(replies.build());
    }).completion().await();
  }

  private static WorkerClient client(Vertx vertx, LocalModelRegistry registry) {
    return client(vertx, registry, new LocalServables());
  }

  private static WorkerClient client(Vertx vertx, LocalModelRegistry registry, LocalServables local) {
    BusCodecs.register(vertx.eventBus());
    Admission.Limits limits = new Admission.Limits(128, 128, 128, 1 << 20);
    return new WorkerClient(vertx, registry, local, new ExpiryWatch(vertx),
        new TensorLimits(1 << 20), new Admission(limits, new SimpleMeterRegistry()));
  }
}
