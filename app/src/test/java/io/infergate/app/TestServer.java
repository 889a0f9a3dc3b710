package io.infergate.app;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;

/** A running single-process server and a real HTTP client pointed at it, for tests. */
final class TestServer implements AutoCloseable {

  final Node server;
  private final Vertx clientVertx = Vertx.vertx();
  private final WebClient client = WebClient.create(clientVertx);

  private TestServer(Node server) {
    this.server = server;
  }

  /** Starts a server from command-line flags, as `infergate serve` would parse them. */
  static TestServer start(String... args) throws Exception {
    return new TestServer(await(InfergateServer.start(options(args))));
  }

  /** Wraps a node started elsewhere (a cluster member) with an HTTP client. */
  static TestServer of(Node node) {
    return new TestServer(node);
  }

  /** A port free right now, for servers whose port must be known before they start. */
  static int freePort() throws java.io.IOException {
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  static ServeOptions options(String... args) {
    ServeFlags flags = new ServeFlags();
    new CommandLine(flags).parseArgs(args);
    return flags.toOptions();
  }

  record Response(int status, String body) {
    JsonObject json() {
      return new JsonObject(body);
    }
  }

  Response post(String path, String body) throws Exception {
    return send(HttpMethod.POST, path, Buffer.buffer(body));
  }

  Response get(String path) throws Exception {
    return send(HttpMethod.GET, path, null);
  }

  Response send(HttpMethod method, String path, Buffer body) throws Exception {
    HttpResponse<Buffer> result = await(sendAsync(method, path, body));
    return new Response(result.statusCode(), result.bodyAsString());
  }

  /** Waits until the server reports ready: its models loaded and its request path warmed up. */
  TestServer awaitReady() throws InterruptedException {
    Traffic.awaitCondition(() -> {
      try {
        return get("/readyz").status() == 200;
      } catch (Exception e) {
        return false;
      }
    }, 60_000);
    return this;
  }

  /** The value of one series in a live scrape; 0 when absent. */
  double metric(String series) throws Exception {
    String metrics = get("/monitoring/prometheus/metrics").body();
    return metrics.lines().filter(line -> line.startsWith(series + " "))
        .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).sum();
  }

  /** The HTTP client, for requests that need headers of their own. */
  WebClient client() {
    return client;
  }

  Future<HttpResponse<Buffer>> sendAsync(HttpMethod method, String path, Buffer body) {
    var request = client.request(method, server.restPort(), "localhost", path);
    return body == null ? request.send() : request.sendBuffer(body);
  }

  static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws Exception {
    client.close();
    await(clientVertx.close());
    await(server.close());
  }
}
