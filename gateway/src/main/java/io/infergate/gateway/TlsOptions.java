package io.infergate.gateway;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;

/**
 * TLS for the gateway's REST and gRPC listeners, from PEM text.
 *
 * @param clientCaPem CAs whose client certificates are accepted, or null for none
 * @param clientAuth whether a client must present a certificate signed by one of them
 */
public record TlsOptions(String certPem, String keyPem, String clientCaPem, ClientAuth clientAuth) {

  /** Turns TLS on in a listener's options. */
  public HttpServerOptions applyTo(HttpServerOptions server) {
    server.setSsl(true).setKeyCertOptions(new PemKeyCertOptions()
        .setCertValue(Buffer.buffer(certPem)).setKeyValue(Buffer.buffer(keyPem)));
    if (clientCaPem != null) {
      server.setTrustOptions(new PemTrustOptions().addCertValue(Buffer.buffer(clientCaPem)));
    }
    return server.setClientAuth(clientAuth);
  }
}
