package io.infergate.gateway.admission;

import static org.assertj.core.api.Assertions.assertThat;

import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class ExpiryWatchTest {

  /** What expired, and on which thread. */
  private static final class Expiry implements ExpiryWatch.Expiring {
    final String name;
    final long expiresAt;
    final List<String> log;

    Expiry(String name, long expiresAt, List<String> log) {
      this.name = name;
      this.expiresAt = expiresAt;
      this.log = log;
    }

    @Override
    public long expiresAtNanos() {
      return expiresAt;
    }

    @Override
    public void expire() {
      log.add(name + "@" + Thread.currentThread().getName());
    }
  }

  /** Watches from two event loops and from outside them: each expires once, on the loop that watched it; ended ones never. */
  @Test
  void expiresOnceOnTheWatchingLoopAndNeverAfterItsWatchEnded(Vertx vertx, VertxTestContext test) throws Exception {
    ExpiryWatch watch = new ExpiryWatch(vertx);
    List<String> expired = new CopyOnWriteArrayList<>();
    long soon = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(30);
    long later = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    Context first = ((VertxInternal) vertx).createEventLoopContext();
    Context second = ((VertxInternal) vertx).createEventLoopContext();
    String[] loops = new String[2];
    first.runOnContext(v -> {
      loops[0] = Thread.currentThread().getName();
      watch.watch(new Expiry("first", soon, expired));
      watch.watch(new Expiry("ended", soon, expired)).end();
      watch.watch(new Expiry("not yet", later, expired));
    });
    second.runOnContext(v -> {
      loops[1] = Thread.currentThread().getName();
      watch.watch(new Expiry("second", soon, expired));
    });
    watch.watch(new Expiry("off loop", soon, expired));
    vertx.setTimer(30 + 5 * ExpiryWatch.PERIOD_MILLIS, id -> test.verify(() -> {
      assertThat(loops[0]).isNotEqualTo(loops[1]);
      assertThat(expired).hasSize(3).contains("first@" + loops[0], "second@" + loops[1])
          .anyMatch(entry -> entry.startsWith("off loop@"));
      test.completeNow();
    }));
    assertThat(test.awaitCompletion(5, TimeUnit.SECONDS)).isTrue();
  }

  /** A bound ends its watch when the work finishes: the answer stands, and the deadline does not touch it. */
  @Test
  void boundGivesTheWorksOutcomeOrDeadlineExceeded(Vertx vertx, VertxTestContext test) {
    ExpiryWatch watch = new ExpiryWatch(vertx);
    vertx.runOnContext(v -> {
      Promise<String> slow = Promise.promise();
      Promise<String> quick = Promise.promise();
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
      var late = watch.bound(slow.future(), deadline);
      var answered = watch.bound(quick.future(), deadline);
      quick.complete("answer");
      late.onComplete(test.failing(failure -> test.verify(() -> {
        assertThat(((ServingException) failure).code()).isEqualTo(StatusCode.DEADLINE_EXCEEDED);
        slow.complete("too late");
        assertThat(answered.result()).isEqualTo("answer");
        test.completeNow();
      })));
    });
  }
}
