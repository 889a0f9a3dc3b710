package io.infergate.gateway.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import io.infergate.common.Priority;
import io.infergate.common.bus.BusCodecs;
import io.infergate.common.bus.Frames;
import io.infergate.proto.frames.FramedReply;
import io.infergate.proto.frames.ReplyFrame;
import io.infergate.proto.frames.RequestFrame;
import io.infergate.proto.serving.ModelSpec;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.proto.serving.PredictResponse;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class FrameSenderTest {

  private static final PredictRequest REQUEST = PredictRequest.newBuilder()
      .setModelSpec(ModelSpec.newBuilder().setName("m")).build();

  /** A full frame leaves at once; what follows in the same turn goes in the next frame, and each request gets its own answer. */
  @Test
  void aFullFrameLeavesAtOnceAndTheRestFollowsAtTheEndOfTheTurn(Vertx vertx, VertxTestContext test) {
    BusCodecs.register(vertx.eventBus());
    List<Integer> frameSizes = new CopyOnWriteArrayList<>();
    vertx.eventBus().<RequestFrame>consumer("servable", message -> {
      frameSizes.add(message.body().getRequestsCount());
      ReplyFrame.Builder replies = ReplyFrame.newBuilder();
      message.body().getRequestsList().forEach(framed -> replies.addReplies(framed.getPriority() != 3
          ? Frames.reply(null, new IllegalStateException("priority " + framed.getPriority() + " did not travel"))
          : Frames.reply(
          PredictResponse.newBuilder().setModelSpec(ModelSpec.newBuilder().setName("" + framed.getTimeoutMillis())).build(),
          null)));
      message.reply(replies.build());
    });
    int requests = FrameSender.MAX_REQUESTS_PER_FRAME + 1;
    AtomicInteger answered = new AtomicInteger();
    vertx.runOnContext(turn -> {
      FrameSender sender = new FrameSender(vertx, vertx.getOrCreateContext());
      long now = System.nanoTime();
      for (int i = 0; i < requests; i++) {
        long timeoutMillis = 10_000 + i * 1_000L;
        sender.send("servable", REQUEST, now + TimeUnit.MILLISECONDS.toNanos(timeoutMillis), Priority.LOW,
            new FrameSender.Outcome() {
          @Override
          public void answered(FramedReply reply) {
            test.verify(() -> {
              // Each answer is the one for its own request: the worker named it after the request's time left.
              long echoed = Long.parseLong(((PredictResponse) Frames.response(reply)).getModelSpec().getName());
              assertThat(echoed).isBetween(timeoutMillis - 1_000, timeoutMillis);
              if (answered.incrementAndGet() == requests) {
                assertThat(frameSizes).containsExactly(FrameSender.MAX_REQUESTS_PER_FRAME, 1);
                test.completeNow();
              }
            });
          }

          @Override
          public void failed(Throwable busFailure) {
            test.failNow(busFailure);
          }
        });
      }
    });
  }

  /** A frame that reaches no handler fails each of its requests with the bus's failure, for the caller to route afresh. */
  @Test
  void aFrameNoHandlerTookFailsEachRequest(Vertx vertx, VertxTestContext test) {
    BusCodecs.register(vertx.eventBus());
    Checkpoint failed = test.checkpoint(3);
    vertx.runOnContext(turn -> {
      FrameSender sender = new FrameSender(vertx, vertx.getOrCreateContext());
      for (int i = 0; i < 3; i++) {
        sender.send("nobody", REQUEST, System.nanoTime() + TimeUnit.SECONDS.toNanos(10), Priority.NORMAL,
            new FrameSender.Outcome() {
          @Override
          public void answered(FramedReply reply) {
            test.failNow("answered without a handler");
          }

          @Override
          public void failed(Throwable busFailure) {
            test.verify(() -> assertThat(((ReplyException) busFailure).failureType()).isEqualTo(ReplyFailure.NO_HANDLERS));
            failed.flag();
          }
        });
      }
    });
  }

  /** A frame is answered when its slowest request is: one frame never mixes priorities. */
  @Test
  void requestsOfDifferentPrioritiesTravelInFramesOfTheirOwn(Vertx vertx, VertxTestContext test) throws Exception {
    BusCodecs.register(vertx.eventBus());
    List<List<Integer>> frames = new CopyOnWriteArrayList<>();
    vertx.eventBus().<RequestFrame>consumer("servable", message -> {
      frames.add(message.body().getRequestsList().stream().map(framed -> framed.getPriority()).toList());
      ReplyFrame.Builder replies = ReplyFrame.newBuilder();
      message.body().getRequestsList().forEach(framed ->
          replies.addReplies(Frames.reply(PredictResponse.getDefaultInstance(), null)));
      message.reply(replies.build());
    });
    Checkpoint answered = test.checkpoint(5);
    vertx.runOnContext(turn -> {
      FrameSender sender = new FrameSender(vertx, vertx.getOrCreateContext());
      for (Priority priority : List.of(Priority.LOW, Priority.HIGH, Priority.LOW, Priority.NORMAL, Priority.HIGH)) {
        sender.send("servable", REQUEST, System.nanoTime() + TimeUnit.SECONDS.toNanos(10), priority,
            new FrameSender.Outcome() {
          @Override
          public void answered(FramedReply reply) {
            answered.flag();
          }

          @Override
          public void failed(Throwable busFailure) {
            test.failNow(busFailure);
          }
        });
      }
    });
    test.awaitCompletion(10, TimeUnit.SECONDS);
    assertThat(frames).containsExactlyInAnyOrder(List.of(3, 3), List.of(1, 1), List.of(2));
  }
}
