package io.infergate.gateway.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import io.infergate.common.ServableId;
import io.infergate.common.TensorLimits;
import io.infergate.common.bus.Addresses;
import io.infergate.common.bus.LocalServables;
import io.infergate.common.registry.LocalModelRegistry;
import io.infergate.common.registry.ServableRecord;
import io.infergate.common.status.StatusCode;
import io.infergate.gateway.admission.Admission;
import io.infergate.gateway.admission.ExpiryWatch;
import io.infergate.proto.serving.ModelVersionStatus.State;
import io.infergate.proto.serving.SignatureDefMap;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
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
        SignatureDefMap.getDefaultInstance(), List.of("departed"), java.util.Map.of());
    AtomicInteger reachedDeparted = new AtomicInteger();
    // The departed worker's consumer takes the message and never answers, as a process that died with it.
    vertx.eventBus().consumer(Addresses.servable(SERVABLE, "departed"), message -> reachedDeparted.incrementAndGet());
    vertx.eventBus().<String>consumer(Addresses.servable(SERVABLE, LocalModelRegistry.LOCAL_WORKER),
        message -> message.reply("served by " + LocalModelRegistry.LOCAL_WORKER));
    WorkerClient client = client(vertx, registry);
    long sent = System.nanoTime();
    client.<String>request(stale, () -> current, "request", sent + TimeUnit.SECONDS.toNanos(30))
        .onComplete(test.succeeding(served -> test.verify(() -> {
          assertThat(served.response()).isEqualTo("served by local");
          assertThat(reachedDeparted.get()).isZero();
          assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent)).as("not at the deadline")
              .isLessThan(5_000);
          test.completeNow();
        })));
  }

  /** A worker that takes a request and never answers: the request fails with DEADLINE_EXCEEDED at its deadline. */
  @Test
  void aRequestAWorkerNeverAnswersFailsAtItsDeadline(Vertx vertx, VertxTestContext test) {
    LocalModelRegistry registry = new LocalModelRegistry();
    registry.publish(ServableRecord.available(SERVABLE, SignatureDefMap.getDefaultInstance())).await();
    ServableRecord servable = registry.snapshot().model("m").orElseThrow().versions().get(1L);
    vertx.eventBus().consumer(Addresses.servable(SERVABLE, LocalModelRegistry.LOCAL_WORKER), message -> { });
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
    client(vertx, registry).<String>request(servable, () -> servable, "request", deadline)
        .onComplete(test.failing(failure -> test.verify(() -> {
          assertThat(io.infergate.common.status.ServingException.of(failure).code())
              .isEqualTo(StatusCode.DEADLINE_EXCEEDED);
          assertThat(System.nanoTime()).as("not before the deadline").isGreaterThanOrEqualTo(deadline);
          test.completeNow();
        })));
  }

  /** A worker with no handler for the servable (a version being swapped): routed afresh and sent once more. */
  @Test
  void aRequestNoHandlerTookIsRoutedAfreshOnce(Vertx vertx, VertxTestContext test) {
    LocalModelRegistry registry = new LocalModelRegistry();
    ServableId next = new ServableId("m", 2);
    registry.publish(ServableRecord.available(SERVABLE, SignatureDefMap.getDefaultInstance())).await();
    registry.publish(ServableRecord.available(next, SignatureDefMap.getDefaultInstance())).await();
    ServableRecord gone = registry.snapshot().model("m").orElseThrow().versions().get(1L);
    ServableRecord serving = registry.snapshot().model("m").orElseThrow().versions().get(2L);
    vertx.eventBus().<String>consumer(Addresses.servable(next, LocalModelRegistry.LOCAL_WORKER),
        message -> message.reply("served by 2"));
    AtomicInteger routes = new AtomicInteger();
    client(vertx, registry).<String>request(gone, () -> {
          routes.incrementAndGet();
          return serving;
        }, "request", System.nanoTime() + TimeUnit.SECONDS.toNanos(30))
        .onComplete(test.succeeding(served -> test.verify(() -> {
          assertThat(served.response()).isEqualTo("served by 2");
          assertThat(served.servable()).isEqualTo(next);
          assertThat(routes.get()).isEqualTo(1);
          test.completeNow();
        })));
  }

  private static WorkerClient client(Vertx vertx, LocalModelRegistry registry) {
    Admission.Limits limits = new Admission.Limits(16, 16, 16, 1 << 20);
    return new WorkerClient(vertx, registry, new LocalServables(), new ExpiryWatch(vertx),
        new TensorLimits(1 << 20), new Admission(limits, new SimpleMeterRegistry()));
  }
}
