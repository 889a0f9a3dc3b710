package io.infergate.gateway.rest;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.infergate.common.registry.ModelRegistry;
import io.infergate.common.registry.ModelView;
import io.infergate.common.registry.ServableRecord;
import io.infergate.common.registry.StoredModelRegistry;
import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.infergate.gateway.auth.AdminToken;
import io.infergate.common.config.ConfigException;
import io.infergate.gateway.features.FeatureEnricher;
import io.infergate.gateway.policy.ServingPolicies;
import io.infergate.proto.policy.ModelPolicy;
import io.infergate.gateway.features.FeatureRecord;
import io.infergate.gateway.features.HazelcastFeatureStore;
import io.infergate.gateway.routing.ServableChoice;
import io.infergate.gateway.routing.ServableResolver;
import io.infergate.gateway.routing.VersionSelector;
import io.infergate.proto.registry.ShadowTarget;
import io.infergate.proto.registry.TrafficPolicy;
import io.infergate.proto.registry.TrafficTarget;
import io.infergate.proto.registry.WeightedTarget;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;

/**
 * The operator's API under {@code /admin}, guarded by a bearer token: read the registry, set
 * labels, traffic splits, shadow targets and serving policies (priority, quotas, cache), load or
 * unload a version on the cluster, and load online features into the cluster's Hazelcast map. Changes go to the shared registry as an
 * operator's overrides, which reach every gateway and worker and outlive config reloads and restarts.
 */
public final class AdminApi {

  private static final JsonFormat.Printer POLICY_JSON = JsonFormat.printer().preservingProtoFieldNames();

  private final ModelRegistry registry;
  private final RestEndpoints endpoints;
  private final AdminToken token;
  private final FeatureEnricher features;
  private final ServingPolicies policies;

  /** @param features the gateway's online features, or null when it has none */
  AdminApi(ModelRegistry registry, RestEndpoints endpoints, AdminToken token,
           FeatureEnricher features, ServingPolicies policies) {
    this.policies = policies;
    this.registry = registry;
    this.endpoints = endpoints;
    this.token = token;
    this.features = features;
  }

  void mount(io.vertx.ext.web.Router router) {
    router.route("/admin/*").handler(this::authorize);
    router.get("/admin/registry").handler(endpoints.endpoint("admin", (ctx, deadline) -> ok(registryJson())));
    router.put("/admin/models/:model/labels/:label").handler(endpoints.endpoint("admin", (ctx, deadline) -> setLabel(ctx)));
    router.delete("/admin/models/:model/labels/:label").handler(endpoints.endpoint("admin", (ctx, deadline) -> removeLabel(ctx)));
    router.put("/admin/models/:model/traffic").handler(endpoints.endpoint("admin", (ctx, deadline) -> setTraffic(ctx)));
    router.delete("/admin/models/:model/traffic").handler(endpoints.endpoint("admin", (ctx, deadline) ->
        registry.updateOverrides(model(ctx).name(), overrides -> overrides.toBuilder().clearTraffic().build())
            .compose(v -> ok(modelJson(model(ctx))))));
    router.get("/admin/models/:model/policy").handler(endpoints.endpoint("admin", (ctx, deadline) ->
        ok(policyJson(ctx.pathParam("model")))));
    router.put("/admin/models/:model/policy").handler(endpoints.endpoint("admin", (ctx, deadline) -> setPolicy(ctx)));
    router.delete("/admin/models/:model/policy").handler(endpoints.endpoint("admin", (ctx, deadline) ->
        registry.updateOverrides(ctx.pathParam("model"), ServingPolicies.clearing())
            .compose(v -> ok(policyJson(ctx.pathParam("model"))))));
    router.post("/admin/models/:model/versions/:version/load").handler(endpoints.endpoint("admin", (ctx, deadline) -> command(ctx, true)));
    router.post("/admin/features").handler(endpoints.endpoint("admin", (ctx, deadline) -> loadFeatures(ctx)));
    router.post("/admin/models/:model/versions/:version/unload").handler(endpoints.endpoint("admin", (ctx, deadline) -> command(ctx, false)));
  }

  private void authorize(RoutingContext ctx) {
    try {
      token.check(ctx.request().getHeader("authorization"));
    } catch (ServingException refused) {
      if (refused.code() == StatusCode.UNAUTHENTICATED) {
        ctx.response().putHeader("www-authenticate", "Bearer");
      }
      RestEndpoints.sendFailure(ctx.request(), refused);
      return;
    }
    ctx.next();
  }

  /** Points a label at a version; only an AVAILABLE version, unless ?force=true. */
  private Future<Reply> setLabel(RoutingContext ctx) {
    ModelView model = model(ctx);
    JsonObject body;
    try {
      body = new JsonObject(RestEndpoints.bodyText(ctx));
    } catch (io.vertx.core.json.DecodeException e) {
      body = null;
    }
    if (body == null || !(body.getValue("version") instanceof Number)) {
      throw ServingException.invalidArgument("Body must be {\"version\": <number>}");
    }
    long version = body.getLong("version");
    ServableRecord record = model.versions().get(version);
    if ((record == null || !record.isAvailable()) && !force(ctx)) {
      throw new ServingException(StatusCode.FAILED_PRECONDITION, "Version " + version + " of model " + model.name()
          + " is not available; a label may point only at an available version unless ?force=true");
    }
    return registry.updateOverrides(model.name(),
            overrides -> overrides.toBuilder().putLabels(ctx.pathParam("label"), version).build())
        .compose(v -> ok(modelJson(model(ctx))));
  }

  private Future<Reply> removeLabel(RoutingContext ctx) {
    ModelView model = model(ctx);
    String label = ctx.pathParam("label");
    if (!model.labels().containsKey(label)) {
      throw ServingException.notFound("Model " + model.name() + " has no label " + label);
    }
    // Marked removed rather than dropped: the label may come from a config, which is applied again.
    return registry.updateOverrides(model.name(),
            overrides -> overrides.toBuilder().putLabels(label, StoredModelRegistry.REMOVED_LABEL).build())
        .compose(v -> ok(modelJson(model(ctx))));
  }

  /** Replaces the traffic policy; every target must serve now, unless ?force=true. */
  private Future<Reply> setTraffic(RoutingContext ctx) {
    ModelView model = model(ctx);
    TrafficPolicy.Builder policy = TrafficPolicy.newBuilder();
    try {
      JsonFormat.parser().merge(RestEndpoints.bodyText(ctx), policy);
    } catch (InvalidProtocolBufferException e) {
      throw ServingException.invalidArgument("Invalid traffic policy: " + e.getMessage());
    }
    for (WeightedTarget split : policy.getSplitList()) {
      if (split.getWeight() <= 0) {
        throw ServingException.invalidArgument("Every split weight must be positive");
      }
      checkTarget(ctx, model, split.getTarget());
    }
    for (ShadowTarget shadow : policy.getShadowList()) {
      if (shadow.getPercent() < 1 || shadow.getPercent() > 100) {
        throw ServingException.invalidArgument("A shadow percent must be between 1 and 100");
      }
      checkTarget(ctx, model, shadow.getTarget());
    }
    return registry.updateOverrides(model.name(), overrides -> overrides.toBuilder().setTraffic(policy).build())
        .compose(v -> ok(modelJson(model(ctx))));
  }

  /**
   * Sets a model's serving policy for every gateway, over the policy file's; the model need not
   * be served yet, so a quota can be in place before its first request.
   */
  private Future<Reply> setPolicy(RoutingContext ctx) {
    String model = ctx.pathParam("model");
    ModelPolicy.Builder policy = ModelPolicy.newBuilder();
    try {
      JsonFormat.parser().merge(RestEndpoints.bodyText(ctx), policy);
      ServingPolicies.validated(policy.setModel(model).build());
    } catch (InvalidProtocolBufferException | ConfigException e) {
      throw ServingException.invalidArgument("Invalid serving policy: " + e.getMessage());
    }
    return registry.updateOverrides(model, ServingPolicies.setting(policy.build()))
        .compose(v -> ok(policyJson(model)));
  }

  private JsonObject policyJson(String model) {
    try {
      return new JsonObject().put("model", model).put("source", policies.sourceOf(model))
          .put("policy", new JsonObject(POLICY_JSON.print(policies.forModel(model))));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  private void checkTarget(RoutingContext ctx, ModelView model, TrafficTarget target) {
    if (target.getTargetCase() == TrafficTarget.TargetCase.TARGET_NOT_SET) {
      throw ServingException.invalidArgument("Every target needs a version or a label");
    }
    if (force(ctx)) {
      return;
    }
    boolean serves;
    try {
      serves = ServableChoice.selector(target).select(model).map(ServableRecord::isAvailable).orElse(false);
    } catch (ServingException unknownLabel) {
      serves = false;
    }
    if (!serves) {
      throw new ServingException(StatusCode.FAILED_PRECONDITION, "Target " + ServableChoice.describe(target)
          + " of model " + model.name() + " is not available; pass ?force=true to route to it anyway");
    }
  }

  /**
   * Pins a version loaded or unloaded in the registry, whatever the version policy says; every
   * worker serving the model acts on it and reports through the registry, and the pin outlives
   * their config reloads and restarts.
   */
  private Future<Reply> command(RoutingContext ctx, boolean load) {
    ModelView model = model(ctx);
    long version = ((VersionSelector.Specific) VersionSelector.of(ctx.pathParam("version"), null)).version();
    return registry.updateOverrides(model.name(), overrides -> overrides.toBuilder().putPins(version, load).build())
        .map(v -> new Reply(202, new JsonObject().put("model", model.name()).put("version", version)
        .put("action", load ? "load" : "unload").toBuffer().getBytes(), null));
  }

  /**
   * Writes the features of a body of JSON lines ({@link FeatureRecord}) into the Hazelcast map the
   * gateways read: the one way in, since the cluster's members take no Hazelcast clients.
   */
  private Future<Reply> loadFeatures(RoutingContext ctx) {
    if (features == null || !(features.store().backing() instanceof HazelcastFeatureStore store)) {
      throw new ServingException(StatusCode.FAILED_PRECONDITION, "This gateway keeps no features in Hazelcast; "
          + "load Redis directly ('infergate features load --redis ...')");
    }
    List<FeatureRecord> records = new ArrayList<>();
    String[] lines = RestEndpoints.bodyText(ctx).split("\n");
    for (int i = 0; i < lines.length; i++) {
      if (!lines[i].isBlank()) {
        try {
          records.add(FeatureRecord.parse(lines[i]));
        } catch (IllegalArgumentException e) {
          throw ServingException.invalidArgument("Line " + (i + 1) + ": " + e.getMessage());
        }
      }
    }
    List<Future<Void>> writes = new ArrayList<>(records.size());
    records.forEach(record -> writes.add(store.put(record)));
    return Future.all(writes).compose(done -> ok(new JsonObject().put("loaded", records.size())));
  }

  private ModelView model(RoutingContext ctx) {
    String name = ctx.pathParam("model");
    return ServableResolver.model(registry.snapshot(), name, VersionSelector.LATEST);
  }

  private static boolean force(RoutingContext ctx) {
    return "true".equals(ctx.queryParams().get("force"));
  }

  private JsonObject registryJson() {
    JsonObject models = new JsonObject();
    registry.snapshot().models().values().forEach(model -> models.put(model.name(), modelJson(model)));
    return new JsonObject().put("connected", registry.isConnected()).put("models", models);
  }

  private static JsonObject modelJson(ModelView model) {
    JsonObject versions = new JsonObject();
    model.versions().forEach((version, record) -> versions.put(Long.toString(version), new JsonObject()
        .put("state", record.state().name())
        .put("workers", new JsonArray(record.workers()))
        .put("memory_bytes", record.memoryBytes())
        .put("error_code", record.errorCode().name())
        .put("error_message", record.errorMessage())));
    JsonObject labels = new JsonObject();
    model.labels().forEach(labels::put);
    try {
      return new JsonObject().put("versions", versions).put("labels", labels)
          .put("traffic", new JsonObject(POLICY_JSON.print(model.traffic())));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Future<Reply> ok(JsonObject json) {
    return Future.succeededFuture(Reply.ok(json.toBuffer().getBytes(), null));
  }
}
