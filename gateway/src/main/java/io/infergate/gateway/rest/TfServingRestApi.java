package io.infergate.gateway.rest;

import io.infergate.common.registry.ServableRecord;
import io.infergate.gateway.GatewayServices;
import io.infergate.gateway.json.ExampleJson;
import io.infergate.gateway.json.PredictJson;
import io.infergate.gateway.json.ProtoJson;
import io.infergate.gateway.pipeline.InferencePipeline;
import io.infergate.gateway.pipeline.InferencePipeline.Target;
import io.infergate.gateway.protocol.ModelQueries;
import io.infergate.gateway.routing.VersionSelector;
import io.infergate.proto.serving.ClassificationRequest;
import io.infergate.proto.serving.ClassificationResponse;
import io.infergate.proto.serving.GetModelStatusResponse;
import io.infergate.proto.serving.Input;
import io.infergate.proto.serving.ModelSpec;
import io.infergate.proto.serving.RegressionRequest;
import io.infergate.proto.serving.RegressionResponse;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/** TensorFlow Serving's REST API: predict, classify, regress, model status and metadata. */
public final class TfServingRestApi {

  /** /v1/models/{model}[/versions/{version}|/labels/{label}], matched case-insensitively as TF Serving does. */
  private static final String MODEL =
      "(?i)/v1/models/(?<model>[^/:]+)(?:/versions/(?<version>[^/:]+)|/labels/(?<label>[^/:]+))?";

  private final GatewayServices services;
  private final RestEndpoints endpoints;

  TfServingRestApi(GatewayServices services, RestEndpoints endpoints) {
    this.services = services;
    this.endpoints = endpoints;
  }

  void mount(Router router) {
    router.routeWithRegex(HttpMethod.POST, MODEL + ":predict").handler(endpoints.endpoint("predict", this::predict));
    router.routeWithRegex(HttpMethod.POST, MODEL + ":classify").handler(endpoints.endpoint("classify", this::classify));
    router.routeWithRegex(HttpMethod.POST, MODEL + ":regress").handler(endpoints.endpoint("regress", this::regress));
    router.routeWithRegex(HttpMethod.GET, MODEL + "/metadata").handler(endpoints.endpoint("metadata", this::metadata));
    router.routeWithRegex(HttpMethod.GET, MODEL).handler(endpoints.endpoint("status", this::status));
  }

  private Future<Reply> predict(RoutingContext ctx, long deadline) {
    return predict(ctx.pathParam("model"), selector(ctx), RestEndpoints.body(ctx), ctx.request()::getHeader,
        deadline);
  }

  /** Predict, whichever way the request arrived (the router or {@link PredictFastPath}). */
  Future<Reply> predict(String model, VersionSelector selector, byte[] json, UnaryOperator<String> headers,
                        long deadline) {
    return endpoints.decoded(json, PredictJson::parse, body -> services.pipeline()
        .predict(new Target(model, selector, headers), body.signatureName(), body, deadline)
        .map(served -> Reply.ok(PredictJson.write(served.response(), body.rowFormat()), served.servable())));
  }

  private Future<Reply> classify(RoutingContext ctx, long deadline) {
    return examples(ctx, deadline,
        (spec, input) -> ClassificationRequest.newBuilder().setModelSpec(spec).setInput(input).build(),
        (ClassificationResponse response) -> ExampleJson.write(response.getResult()));
  }

  private Future<Reply> regress(RoutingContext ctx, long deadline) {
    return examples(ctx, deadline,
        (spec, input) -> RegressionRequest.newBuilder().setModelSpec(spec).setInput(input).build(),
        (RegressionResponse response) -> ExampleJson.write(response.getResult()));
  }

  /** Classify and regress: tf.Examples in, one result per example back. */
  private <Q, R> Future<Reply> examples(RoutingContext ctx, long deadline, BiFunction<ModelSpec, Input, Q> request,
                                        Function<R, byte[]> write) {
    Target target = new Target(ctx.pathParam("model"), selector(ctx), ctx.request()::getHeader);
    return endpoints.decoded(RestEndpoints.body(ctx), ExampleJson::parse, body -> services.pipeline().<R>dispatch(
            target, servable -> request.apply(InferencePipeline.spec(servable, body.signatureName()), body.input()),
            deadline)
        .map(served -> Reply.ok(write.apply(served.response()), served.servable())));
  }

  private Future<Reply> metadata(RoutingContext ctx, long deadline) {
    ServableRecord servable = services.router().resolve(ctx.pathParam("model"), selector(ctx));
    return Future.succeededFuture(Reply.ok(ProtoJson.metadata(ModelQueries.spec(servable), servable.signatures(),
        servable.invalidSignatures()),
        servable.id()));
  }

  /** All versions of the model, or the one a version or label names, in whatever state. */
  private Future<Reply> status(RoutingContext ctx, long deadline) {
    GetModelStatusResponse status = ModelQueries.status(services.registry().snapshot(), ctx.pathParam("model"),
        selector(ctx));
    return Future.succeededFuture(Reply.ok(ProtoJson.status(status), null));
  }

  private static VersionSelector selector(RoutingContext ctx) {
    return VersionSelector.of(ctx.pathParam("version"), ctx.pathParam("label"));
  }
}
