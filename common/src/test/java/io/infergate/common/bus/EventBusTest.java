package io.infergate.common.bus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.infergate.common.ServableId;
import io.infergate.common.Priority;
import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.infergate.proto.frames.FramedReply;
import io.infergate.proto.frames.FramedRequest;
import io.infergate.proto.frames.ReplyFrame;
import io.infergate.proto.frames.RequestFrame;
import io.infergate.proto.serving.ClassificationRequest;
import io.infergate.proto.serving.ClassificationResponse;
import io.infergate.proto.serving.ModelSpec;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.proto.serving.PredictResponse;
import io.infergate.proto.serving.RegressionRequest;
import io.infergate.proto.serving.RegressionResponse;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class EventBusTest {

  static final PredictRequest PREDICT = PredictRequest.newBuilder()
      .setModelSpec(ModelSpec.newBuilder().setName("m")).build();
  static final RequestFrame REQUEST = RequestFrame.newBuilder().addRequests(Frames.request(PREDICT, 100, Priority.NORMAL)).build();

  @BeforeEach
  void codecs(Vertx vertx) {
    BusCodecs.register(vertx.eventBus());
  }

  @Test
  void handsMessagesOverWithoutACopyInsideOneJvm(Vertx vertx, VertxTestContext test) {
    String address = Addresses.servable(new ServableId("m", 1), "worker-1");
    vertx.eventBus().<RequestFrame>consumer(address, message -> {
      test.verify(() -> assertThat(message.body()).isSameAs(REQUEST));
      message.reply(ReplyFrame.getDefaultInstance());
    });
    vertx.eventBus().request(address, REQUEST).onComplete(test.succeeding(reply -> test.verify(() -> {
      assertThat(reply.body()).isSameAs(ReplyFrame.getDefaultInstance());
      test.completeNow();
    })));
  }

  @Test
  void writesCompactBytesAcrossTheCluster() {
    ProtoMessageCodec<RequestFrame> codec = new ProtoMessageCodec<>(RequestFrame.class, RequestFrame.parser());
    Buffer wire = Buffer.buffer("prefix");
    codec.encodeToWire(wire, REQUEST);
    assertThat(codec.decodeFromWire(6, wire)).isEqualTo(REQUEST);
    assertThat(wire.length()).isEqualTo(6 + 4 + REQUEST.getSerializedSize());
  }

  @Test
  void carriesStatusesAndMapsBusFailures(Vertx vertx, VertxTestContext test) {
    vertx.eventBus().consumer("fails", message ->
        BusFailures.reply(message, ServingException.invalidArgument("bad input")));
    vertx.eventBus().consumer("silent", message -> { });
    var failed = vertx.eventBus().request("fails", REQUEST)
        .recover(f -> io.vertx.core.Future.failedFuture(BusFailures.toStatus(f, "m:1")));
    var timedOut = vertx.eventBus().request("silent", REQUEST, new DeliveryOptions().setSendTimeout(50))
        .recover(f -> io.vertx.core.Future.failedFuture(BusFailures.toStatus(f, "m:1")));
    var unserved = vertx.eventBus().request("nobody", REQUEST)
        .recover(f -> io.vertx.core.Future.failedFuture(BusFailures.toStatus(f, "m:1")));
    io.vertx.core.Future.join(failed, timedOut, unserved).onComplete(done -> test.verify(() -> {
      assertThat(code(failed.cause())).isEqualTo(StatusCode.INVALID_ARGUMENT);
      assertThat(failed.cause()).hasMessage("bad input");
      assertThat(code(timedOut.cause())).isEqualTo(StatusCode.DEADLINE_EXCEEDED);
      assertThat(code(unserved.cause())).isEqualTo(StatusCode.UNAVAILABLE);
      assertThat(unserved.cause()).hasMessage("No worker is serving m:1");
      test.completeNow();
    }));
  }

  @Test
  void framesCarryEachKindOfRequestAndAnswerAndFailuresWithTheirStatus() {
    FramedRequest framed = Frames.request(PREDICT, 250, Priority.HIGH);
    assertThat(framed.getTimeoutMillis()).isEqualTo(250);
    assertThat(Priority.ofLevel(framed.getPriority(), Priority.NORMAL)).isEqualTo(Priority.HIGH);
    assertThat(Frames.request(framed)).isSameAs(PREDICT);
    ClassificationRequest classify = ClassificationRequest.newBuilder().setModelSpec(PREDICT.getModelSpec()).build();
    assertThat(Frames.request(Frames.request(classify, 1, Priority.LOW))).isSameAs(classify);
    RegressionRequest regress = RegressionRequest.getDefaultInstance();
    assertThat(Frames.request(Frames.request(regress, 1, Priority.NORMAL))).isSameAs(regress);
    assertThatThrownBy(() -> Frames.request(FramedRequest.getDefaultInstance()))
        .isInstanceOfSatisfying(ServingException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT));

    PredictResponse answer = PredictResponse.newBuilder().setModelSpec(PREDICT.getModelSpec()).build();
    assertThat(Frames.response(Frames.reply(answer, null))).isSameAs(answer);
    assertThat(Frames.response(Frames.reply(ClassificationResponse.getDefaultInstance(), null)))
        .isSameAs(ClassificationResponse.getDefaultInstance());
    assertThat(Frames.response(Frames.reply(RegressionResponse.getDefaultInstance(), null)))
        .isSameAs(RegressionResponse.getDefaultInstance());
    FramedReply failed = Frames.reply(null, new ServingException(StatusCode.RESOURCE_EXHAUSTED, "queue full"));
    assertThatThrownBy(() -> Frames.response(failed)).isInstanceOfSatisfying(ServingException.class, e -> {
      assertThat(e.code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED);
      assertThat(e).hasMessage("queue full");
    });
    assertThatThrownBy(() -> Frames.response(FramedReply.getDefaultInstance()))
        .isInstanceOfSatisfying(ServingException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.INTERNAL));
  }

  private static StatusCode code(Throwable failure) {
    return ((ServingException) failure).code();
  }
}
