package io.infergate.common.bus;

import static org.assertj.core.api.Assertions.assertThat;

import io.infergate.common.ServableId;
import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.infergate.proto.serving.ModelSpec;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.proto.serving.PredictResponse;
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

  static final PredictRequest REQUEST = PredictRequest.newBuilder()
      .setModelSpec(ModelSpec.newBuilder().setName("m")).build();

  @BeforeEach
  void codecs(Vertx vertx) {
    BusCodecs.register(vertx.eventBus());
  }

  @Test
  void handsMessagesOverWithoutACopyInsideOneJvm(Vertx vertx, VertxTestContext test) {
    String address = Addresses.servable(new ServableId("m", 1), "worker-1");
    vertx.eventBus().<PredictRequest>consumer(address, message -> {
      test.verify(() -> assertThat(message.body()).isSameAs(REQUEST));
      message.reply(PredictResponse.getDefaultInstance());
    });
    vertx.eventBus().request(address, REQUEST).onComplete(test.succeeding(reply -> test.verify(() -> {
      assertThat(reply.body()).isSameAs(PredictResponse.getDefaultInstance());
      test.completeNow();
    })));
  }

  @Test
  void writesCompactBytesAcrossTheCluster() {
    ProtoMessageCodec<PredictRequest> codec = new ProtoMessageCodec<>(PredictRequest.class, PredictRequest.parser());
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

  private static StatusCode code(Throwable failure) {
    return ((ServingException) failure).code();
  }
}
