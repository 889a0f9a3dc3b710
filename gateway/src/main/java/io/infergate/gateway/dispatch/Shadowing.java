package io.infergate.gateway.dispatch;

import io.infergate.common.Priority;
import io.infergate.common.metrics.MetricNames;
import io.infergate.common.registry.ModelView;
import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.infergate.gateway.routing.SnapshotRouter;
import io.infergate.gateway.routing.ServableChoice;
import io.infergate.proto.registry.ShadowTarget;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Shadow traffic: a copy of a share of a model's requests goes to another version or label.
 * Its answers are measured ({@code infergate.shadow.latency} by model, target and status) but
 * never returned, and its failures never touch the primary request.
 */
public final class Shadowing {

  private final SnapshotRouter router;
  private final WorkerClient workers;
  private final MeterRegistry meters;

  public Shadowing(SnapshotRouter router, WorkerClient workers, MeterRegistry meters) {
    this.router = router;
    this.workers = workers;
    this.meters = meters;
  }

  /** Sends copies of a request that named no version, as the model's shadow targets ask. */
  public void copy(String model, Object request, long deadlineNanos) {
    ModelView view = router.registry().snapshot().model(model).orElse(null);
    if (view == null || view.traffic().getShadowCount() == 0) {
      return;
    }
    for (ShadowTarget shadow : view.traffic().getShadowList()) {
      if (ThreadLocalRandom.current().nextInt(100) >= shadow.getPercent()) {
        continue;
      }
      String target = ServableChoice.describe(shadow.getTarget());
      long started = System.nanoTime();
      try {
        var selector = ServableChoice.selector(shadow.getTarget());
        // A copy is never worth a user's request: it goes last in the worker's queue and is shed first.
        workers.request(router.resolve(model, selector), () -> router.resolve(model, selector), request, deadlineNanos,
                Priority.LOW)
            .onComplete(result -> record(model, target,
                result.succeeded() ? StatusCode.OK : ServingException.of(result.cause()).code(), started));
      } catch (RuntimeException e) {
        record(model, target, ServingException.of(e).code(), started);
      }
    }
  }

  private void record(String model, String target, StatusCode status, long started) {
    Timer.builder(MetricNames.SHADOW_LATENCY)
        .description("Latency of shadow copies, whose answers are measured and dropped")
        .tags("model", model, "target", target, "status", status.name())
        .register(meters).record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
  }
}
