package io.infergate.gateway.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.impl.ConnectionBase;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Guards the one use of a Vert.x implementation class: if an upgrade changes how HTTP/2 server
 * connections are built, this fails instead of the gRPC server silently flushing per answer.
 */
class FlushCoalescingTest {

  @Test
  void anHttp2ServerConnectionTakesTheHandler() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      CompletableFuture<Boolean> inPipeline = new CompletableFuture<>();
      HttpServer server = vertx.createHttpServer(new HttpServerOptions().setHttp2ClearTextEnabled(true))
          .connectionHandler(connection -> inPipeline.complete(FlushCoalescing.install(connection)
              && ((ConnectionBase) connection).channel().pipeline().get(FlushCoalescing.HANDLER) != null))
          .requestHandler(request -> request.response().end("ok"));
      int port = server.listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS).actualPort();
      HttpClient client = vertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
          .setHttp2ClearTextUpgrade(false));
      String body = client.request(HttpMethod.GET, port, "127.0.0.1", "/")
          .compose(request -> request.send().compose(response -> response.body()))
          .await(10, TimeUnit.SECONDS).toString();
      assertThat(inPipeline.get(10, TimeUnit.SECONDS)).isTrue();
      assertThat(body).as("answered through the handler").isEqualTo("ok");
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }
}
