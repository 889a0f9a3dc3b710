package io.infergate.gateway.rest;

import static org.assertj.core.api.Assertions.assertThat;

import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Where request bodies are decoded: small ones on the event loop, large ones off it. */
@ExtendWith(VertxExtension.class)
class RestEndpointsTest {

  @Test
  void aLargeBodyIsDecodedOffTheEventLoopAndItsRequestGoesOnBackOnIt(Vertx vertx, VertxTestContext test) {
    RestEndpoints endpoints = new RestEndpoints(vertx, null, null, 1_000);
    List<Boolean> decodedOnLoop = new CopyOnWriteArrayList<>();
    Function<byte[], Integer> decoder = body -> {
      decodedOnLoop.add(Context.isOnEventLoopThread());
      return body.length;
    };
    Context loop = vertx.getOrCreateContext();
    Function<Integer, Future<Reply>> answer = length -> {
      assertThat(Vertx.currentContext()).isSameAs(loop);
      return Future.succeededFuture(Reply.ok(new byte[length], null));
    };
    loop.runOnContext(v -> endpoints.decoded(new byte[RestEndpoints.DECODE_ON_LOOP_BYTES], decoder, answer)
        .compose(small -> endpoints.decoded(new byte[RestEndpoints.DECODE_ON_LOOP_BYTES + 1], decoder, answer))
        .onComplete(test.succeeding(large -> test.verify(() -> {
          assertThat(large.body()).hasSize(RestEndpoints.DECODE_ON_LOOP_BYTES + 1);
          assertThat(decodedOnLoop).containsExactly(true, false);
          test.completeNow();
        }))));
  }

  @Test
  void aLargeBodyThatDoesNotDecodeFailsWithTheDecodersStatus(Vertx vertx, VertxTestContext test) {
    RestEndpoints endpoints = new RestEndpoints(vertx, null, null, 1_000);
    vertx.getOrCreateContext().runOnContext(v -> endpoints.<Integer>decoded(
            new byte[RestEndpoints.DECODE_ON_LOOP_BYTES + 1], body -> {
              throw ServingException.invalidArgument("JSON Parse error: not JSON");
            }, length -> Future.succeededFuture(Reply.ok(new byte[length], null)))
        .onComplete(test.failing(failure -> test.verify(() -> {
          assertThat(ServingException.of(failure).code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
          assertThat(failure).hasMessageContaining("not JSON");
          test.completeNow();
        }))));
  }
}
