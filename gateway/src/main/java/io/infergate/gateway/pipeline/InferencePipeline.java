package io.infergate.gateway.pipeline;

import com.google.protobuf.Int64Value;
import io.infergate.common.Priority;
import io.infergate.common.ServableId;
import io.infergate.common.Signatures;
import io.infergate.common.registry.ServableRecord;
import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.infergate.gateway.dispatch.Shadowing;
import io.infergate.gateway.dispatch.ColdStarts;
import io.infergate.gateway.dispatch.WorkerClient;
import io.infergate.gateway.dispatch.WorkerClient.Served;
import io.infergate.gateway.cache.CacheKey;
import io.infergate.gateway.cache.ResponseCache;
import io.infergate.gateway.features.FeatureEnricher;
import io.infergate.gateway.policy.PolicyServices;
import io.infergate.gateway.policy.Quotas;
import io.infergate.gateway.policy.ServingPolicies;
import io.infergate.gateway.routing.SnapshotRouter;
import io.infergate.gateway.routing.VersionSelector;
import io.infergate.proto.policy.CachePolicy;
import io.infergate.proto.policy.ModelPolicy;
import io.infergate.proto.serving.ModelSpec;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.proto.serving.PredictResponse;
import io.vertx.core.Future;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.tensorflow.proto.TensorProto;

/**
 * What happens to an inference request once its protocol has decoded it, the same for every API
 * (TF Serving REST and gRPC, Open Inference REST and gRPC): apply its model's serving policy
 * (its priority, its tenant's and model's quotas), route it to a servable (version, label or
 * traffic split), have it loaded first if it is a pageable model loaded nowhere, fetch the
 * features its entity ids name, send shadow copies, answer it from the response cache or
 * dispatch it to a worker, routed afresh if that worker goes. Protocol handlers only decode and
 * encode; admission, deadlines and request metrics wrap them in {@code RestEndpoints} and
 * {@code UnaryCalls}.
 */
public final class InferencePipeline {

  /**
   * Which model a request is for, which of its versions it names, its headers (or gRPC
   * metadata: a sticky split hashes one, the priority and tenant are read from them), and the
   * priority its body names, if its protocol has a place for one (else null).
   */
  public record Target(String model, VersionSelector selector, UnaryOperator<String> headers, String priority) {
    public Target(String model, VersionSelector selector, UnaryOperator<String> headers) {
      this(model, selector, headers, null);
    }
  }

  private final SnapshotRouter router;
  private final FeatureEnricher features;
  private final Shadowing shadowing;
  private final WorkerClient workers;
  private final ColdStarts coldStarts;
  private final PolicyServices policy;

  /** @param features null when the gateway has no feature store */
  public InferencePipeline(SnapshotRouter router, FeatureEnricher features, Shadowing shadowing,
                           WorkerClient workers, ColdStarts coldStarts, PolicyServices policy) {
    this.router = router;
    this.features = features;
    this.shadowing = shadowing;
    this.workers = workers;
    this.coldStarts = coldStarts;
    this.policy = policy;
  }

  /** Policy, route, features, shadow, cache or dispatch. */
  public Future<Served<PredictResponse>> predict(Target target, String signatureName, PredictInputs inputs,
                                                 long deadlineNanos) {
    ModelPolicy rules = policy.policies().forModel(target.model());
    Priority priority = priority(target, rules);
    CachePolicy caching = rules.getCache();
    return withQuotas(target, rules, () -> withColdStart(target, deadlineNanos, () -> {
      ServableRecord servable = route(target);
      return withFeatures(target.model(), inputs, deadlineNanos).compose(fetched -> {
        PredictRequest request = request(servable, signatureName, inputs, fetched);
        if (target.selector() instanceof VersionSelector.Latest) {
          shadowing.copy(target.model(), request, deadlineNanos);
        }
        return answer(target, servable, signatureName, request, priority, caching, deadlineNanos);
      });
    }));
  }

  /**
   * Classify, regress and the like: policy, route and dispatch. Their tf.Examples carry no entity ids.
   *
   * @param message the request for the routed servable
   */
  public <R> Future<Served<R>> dispatch(Target target, Function<ServableId, Object> message, long deadlineNanos) {
    ModelPolicy rules = policy.policies().forModel(target.model());
    Priority priority = priority(target, rules);
    return withQuotas(target, rules, () -> withColdStart(target, deadlineNanos, () -> {
      ServableRecord servable = route(target);
      return workers.request(servable, () -> route(target), message.apply(servable.id()), deadlineNanos, priority);
    }));
  }

  /** The cached answer, else the worker's, kept in the cache when the model's policy caches. */
  private Future<Served<PredictResponse>> answer(Target target, ServableRecord servable, String signatureName,
                                                 PredictRequest request, Priority priority, CachePolicy caching,
                                                 long deadlineNanos) {
    if (!ResponseCache.enabled(caching)) {
      return workers.request(servable, () -> route(target), request, deadlineNanos, priority);
    }
    CacheKey key = CacheKey.of(servable.id(), signatureName, request);
    return policy.cache().get(key, caching).compose(cached -> cached != null
        ? Future.succeededFuture(new Served<>(cached, servable.id()))
        : workers.<PredictResponse>request(servable, () -> route(target), request, deadlineNanos, priority)
            .onSuccess(served -> {
              // A retry may have been routed to another version: its answer is not this key's.
              if (served.servable().equals(servable.id())) {
                policy.cache().put(key, served.response(), caching);
              }
            }));
  }

  /** The priority the request names (its body's, else its header's), else its model's default. */
  private static Priority priority(Target target, ModelPolicy rules) {
    String named = target.priority() != null ? target.priority() : target.headers().apply(Priority.HEADER);
    return Priority.parse(named, ServingPolicies.defaultPriority(rules));
  }

  /** Runs the request once its tenant's and its model's quotas admit it. */
  private <T> Future<T> withQuotas(Target target, ModelPolicy rules, Supplier<Future<T>> work) {
    if (!Quotas.appliesTo(rules)) {
      return work.get();
    }
    String tenant = target.headers().apply(policy.policies().tenantHeader());
    return policy.quotas().admit(target.model(), rules, tenant).compose(admitted -> work.get());
  }

  /**
   * Runs a request; when its model is pageable and loaded nowhere, or was evicted under it, has it
   * loaded and runs it again, within the request's deadline.
   */
  private <T> Future<T> withColdStart(Target target, long deadlineNanos, Supplier<Future<T>> attempt) {
    Future<T> result;
    try {
      result = attempt.get();
    } catch (ServingException notServed) {
      result = Future.failedFuture(notServed);
    }
    return result.recover(failure -> {
      if (!(failure instanceof ServingException notServed) || System.nanoTime() - deadlineNanos > 0
          || notServed.code() != StatusCode.UNAVAILABLE && notServed.code() != StatusCode.NOT_FOUND) {
        return Future.failedFuture(failure);
      }
      return coldStarts.whenLoaded(target.model(), target.selector(), notServed, deadlineNanos)
          .compose(loaded -> withColdStart(target, deadlineNanos, attempt));
    });
  }

  /** Stops following the registry, when the gateway verticle stops. */
  public void close() {
    workers.close();
  }

  /**
   * What goes to the worker. A decoded request that needs nothing added travels as it is (the
   * worker reads only the signature name from its spec), sparing a copy per request.
   */
  private static PredictRequest request(ServableRecord servable, String signatureName, PredictInputs inputs,
                                        Map<String, TensorProto> fetched) {
    PredictRequest unchanged = inputs.unchanged();
    if (fetched.isEmpty() && unchanged != null && unchanged.getModelSpec().getSignatureName().equals(signatureName)) {
      return unchanged;
    }
    PredictRequest.Builder request = PredictRequest.newBuilder().setModelSpec(spec(servable.id(), signatureName));
    inputs.putInto(request, () -> Signatures.find(servable.signatures(), signatureName));
    return request.putAllInputs(fetched).addAllOutputFilter(inputs.outputFilter()).build();
  }

  /** The spec a worker reads: the routed version and the signature to run. */
  public static ModelSpec spec(ServableId id, String signatureName) {
    return ModelSpec.newBuilder().setName(id.name()).setVersion(Int64Value.of(id.version()))
        .setSignatureName(signatureName).build();
  }

  private ServableRecord route(Target target) {
    return router.route(target.model(), target.selector(), target.headers());
  }

  /** The inputs the feature store adds for the entity ids the request carries (none for most models). */
  private Future<Map<String, TensorProto>> withFeatures(String model, PredictInputs inputs, long deadlineNanos) {
    FeatureEnricher.Plan plan = features == null ? null : features.plan(model, inputs.names());
    if (plan == null || plan.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    Map<String, List<String>> ids = new LinkedHashMap<>();
    for (String field : plan.entityFields()) {
      ids.put(field, inputs.takeEntityIds(field));
    }
    return features.fetch(plan, ids, deadlineNanos);
  }
}
