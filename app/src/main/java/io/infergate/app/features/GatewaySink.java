package io.infergate.app.features;

import io.infergate.gateway.features.FeatureRecord;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * Features into the cluster's Hazelcast map through a gateway's admin API ({@code POST
 * /admin/features}, one JSON line per entity, a batch per request): the members take no
 * Hazelcast clients, and the admin token (and TLS) guard the way in.
 */
public final class GatewaySink implements FeatureSink {

  private final Vertx vertx = Vertx.vertx();
  private final HttpClient http;
  private final URI gateway;
  private final String token;
  private StringBuilder lines = new StringBuilder();
  private CompletableFuture<Void> batch = new CompletableFuture<>();

  /**
   * @param gateway the gateway's REST address, http:// or https://
   * @param caFile PEM CAs to trust for https (null: the JVM's), clientCert/clientKey a client certificate (or null)
   */
  public GatewaySink(URI gateway, String token, String caFile, String clientCert, String clientKey) {
    HttpClientOptions options = new HttpClientOptions().setSsl("https".equals(gateway.getScheme()));
    if (caFile != null) {
      options.setTrustOptions(new PemTrustOptions().addCertPath(caFile));
    }
    if (clientCert != null) {
      options.setKeyCertOptions(new PemKeyCertOptions().setCertPath(clientCert).setKeyPath(clientKey));
    }
    this.http = vertx.createHttpClient(options);
    this.gateway = gateway;
    this.token = token;
  }

  @Override
  public CompletionStage<?> putHash(String key, Map<String, String> values) {
    return add(new FeatureRecord(key, values, null));
  }

  @Override
  public CompletionStage<?> putVector(String key, byte[] vector) {
    return add(new FeatureRecord(key, null, vector));
  }

  private synchronized CompletionStage<Void> add(FeatureRecord record) {
    lines.append(record.toJson()).append('\n');
    return batch;
  }

  /** Sends the batch so far as one request; every entity of it succeeds or fails with it. */
  @Override
  public synchronized void flush() {
    if (lines.length() == 0) {
      return;
    }
    CompletableFuture<Void> sent = batch;
    Buffer body = Buffer.buffer(lines.toString());
    lines = new StringBuilder();
    batch = new CompletableFuture<>();
    int port = gateway.getPort() > 0 ? gateway.getPort() : "https".equals(gateway.getScheme()) ? 443 : 80;
    http.request(new RequestOptions().setMethod(HttpMethod.POST).setHost(gateway.getHost()).setPort(port)
            .setURI("/admin/features").putHeader("authorization", "Bearer " + token)
            .putHeader("content-type", "application/x-ndjson"))
        .compose(request -> request.send(body))
        .compose(response -> response.body().map(answer -> {
          if (response.statusCode() != 200) {
            throw new IllegalStateException("The gateway refused the batch: HTTP " + response.statusCode() + " "
                + answer);
          }
          return answer;
        }))
        .onSuccess(answer -> sent.complete(null))
        .onFailure(sent::completeExceptionally);
  }

  @Override
  public String target() {
    return "the Hazelcast feature map through " + gateway;
  }

  @Override
  public void close() {
    flush();
    vertx.close().toCompletionStage().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).join();
  }
}
