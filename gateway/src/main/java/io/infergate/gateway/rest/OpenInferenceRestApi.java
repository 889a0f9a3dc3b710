package io.infergate.gateway.rest;

import io.infergate.common.Signatures;
import io.infergate.common.registry.ModelRegistry;
import io.infergate.common.registry.ModelView;
import io.infergate.common.registry.ServableRecord;
import io.infergate.gateway.GatewayServices;
import io.infergate.gateway.json.JsonCodec;
import io.infergate.gateway.json.OpenInferenceJson;
import io.infergate.gateway.pipeline.InferencePipeline.Target;
import io.infergate.gateway.pipeline.TensorInputs;
import io.infergate.gateway.routing.ServableResolver;
import io.infergate.gateway.routing.VersionSelector;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.List;

/** The Open Inference Protocol (KServe v2) REST API on the same port as TF Serving's. */
public final class OpenInferenceRestApi {

  private static final String MODEL = "/v2/models/(?<model>[^/]+)(?:/versions/(?<version>[^/]+))?";

  private final GatewayServices services;
  private final ModelRegistry registry;
  private final RestEndpoints endpoints;
  private final String serverVersion;

  OpenInferenceRestApi(GatewayServices services, RestEndpoints endpoints, String serverVersion) {
    this.services = services;
    this.registry = services.registry();
    this.endpoints = endpoints;
    this.serverVersion = serverVersion;
  }

  void mount(Router router) {
    router.get("/v2").handler(endpoints.endpoint("server_metadata", this::serverMetadata));
    router.get("/v2/health/live").handler(endpoints.endpoint("server_live", (ctx, deadline) -> flag("live", true)));
    router.get("/v2/health/ready").handler(endpoints.endpoint("server_ready",
        (ctx, deadline) -> flag("ready", services.ready())));
    // Plain probe paths for Kubernetes and load balancers; the same answers.
    router.get("/healthz").handler(endpoints.endpoint("healthz", (ctx, deadline) -> flag("live", true)));
    router.get("/readyz").handler(endpoints.endpoint("readyz", (ctx, deadline) -> flag("ready", services.ready())));
    router.routeWithRegex(HttpMethod.GET, MODEL + "/ready").handler(endpoints.endpoint("model_ready", this::modelReady));
    router.routeWithRegex(HttpMethod.POST, MODEL + "/infer").handler(endpoints.endpoint("infer", this::infer));
    router.routeWithRegex(HttpMethod.GET, MODEL).handler(endpoints.endpoint("model_metadata", this::modelMetadata));
  }

  private Future<Reply> serverMetadata(RoutingContext ctx, long deadline) {
    return Future.succeededFuture(Reply.ok(JsonCodec.write(json -> {
      json.writeStartObject();
      json.writeStringField("name", "infergate");
      json.writeStringField("version", serverVersion);
      json.writeArrayFieldStart("extensions");
      json.writeEndArray();
      json.writeEndObject();
    }), null));
  }

  /** {"live": true} or {"ready": ...}; not ready answers 503 so probes can use the status alone. */
  private static Future<Reply> flag(String name, boolean value) {
    byte[] body = JsonCodec.write(json -> {
      json.writeStartObject();
      json.writeBooleanField(name, value);
      json.writeEndObject();
    });
    return Future.succeededFuture(new Reply(value ? 200 : 503, body, null));
  }

  private Future<Reply> modelReady(RoutingContext ctx, long deadline) {
    String model = ctx.pathParam("model");
    VersionSelector selector = VersionSelector.of(ctx.pathParam("version"), null);
    ModelView view = ServableResolver.model(registry.snapshot(), model, selector);
    ServableRecord record = selector.select(view).orElse(null);
    boolean ready = record != null && record.isAvailable();
    byte[] body = OpenInferenceJson.modelReady(record == null ? null : record.id(), model, ready);
    return Future.succeededFuture(new Reply(ready ? 200 : 503, body, record == null ? null : record.id()));
  }

  private Future<Reply> modelMetadata(RoutingContext ctx, long deadline) {
    String model = ctx.pathParam("model");
    ServableRecord servable = services.router().resolve(model, selector(ctx));
    List<Long> versions = registry.snapshot().model(model).orElseThrow().availableVersions();
    byte[] body = OpenInferenceJson.modelMetadata(model, versions,
        Signatures.find(servable.signatures(), Signatures.DEFAULT_KEY));
    return Future.succeededFuture(Reply.ok(body, servable.id()));
  }

  private Future<Reply> infer(RoutingContext ctx, long deadline) {
    VersionSelector selector = selector(ctx);
    return endpoints.decoded(RestEndpoints.body(ctx), OpenInferenceJson::parse, infer -> {
      Target target = new Target(ctx.pathParam("model"), selector, ctx.request()::getHeader, infer.priority());
      return services.pipeline().predict(target, infer.signatureName(), new TensorInputs(infer.request().build()),
              deadline)
          .map(served -> Reply.ok(OpenInferenceJson.write(served.response(), infer.id()), served.servable()));
    });
  }

  private static VersionSelector selector(RoutingContext ctx) {
    return VersionSelector.of(ctx.pathParam("version"), null);
  }
}
