package io.infergate.loadtest;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * The yardstick for REST throughput: a bare Vert.x endpoint that parses a JSON POST body and
 * answers a small JSON document, with no model behind it. Predict throughput is reported as a
 * share of what this reaches on the same machine in the same run.
 *
 * <p>Run: {@code java -cp loadtest/target/classes:<vertx-core classpath> io.infergate.loadtest.BaselineServer 8601}
 */
public final class BaselineServer extends VerticleBase {

  private final int port;

  public BaselineServer(int port) {
    this.port = port;
  }

  @Override
  public Future<?> start() {
    return vertx.createHttpServer()
        .requestHandler(request -> request.body().onSuccess(body -> {
          JsonArray instances = new JsonObject(body).getJsonArray("instances", new JsonArray());
          request.response()
              .putHeader("content-type", "application/json")
              .end(new JsonObject().put("predictions", new JsonArray().add(instances.size())).toBuffer());
        }))
        .listen(port);
  }

  public static void main(String[] args) {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 8601;
    Vertx vertx = Vertx.vertx();
    vertx.deployVerticle(() -> new BaselineServer(port),
            new DeploymentOptions().setInstances(Runtime.getRuntime().availableProcessors()))
        .onSuccess(id -> System.out.println("Baseline JSON endpoint listening on port " + port))
        .onFailure(failure -> {
          failure.printStackTrace();
          vertx.close();
        });
  }
}
