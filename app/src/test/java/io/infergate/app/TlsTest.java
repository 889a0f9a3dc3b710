package io.infergate.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.infergate.proto.serving.PredictionServiceGrpc;
import io.infergate.worker.TestModels;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS on the REST and gRPC ports, with and without client certificates, configured from PEM
 * files or TF Serving's SSLConfig; real HTTPS and gRPC-over-TLS clients.
 */
class TlsTest {

  private static final String BODY = "{\"instances\": [1.0]}";

  @TempDir
  static Path dir;

  static TestCertificates authority;
  static TestCertificates stranger;
  static TestCertificates.Issued serverCert;
  static TestCertificates.Issued clientCert;
  static TestCertificates.Issued strangerCert;
  static Vertx vertx;

  @BeforeAll
  static void certificates() throws Exception {
    authority = TestCertificates.authority(dir, "infergate-test");
    stranger = TestCertificates.authority(dir, "stranger");
    serverCert = authority.issue("server", "localhost", "127.0.0.1");
    clientCert = authority.issue("client");
    strangerCert = stranger.issue("intruder");
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() throws Exception {
    TestServer.await(vertx.close());
  }

  @Test
  void servesRestAndGrpcOverTlsAndNothingInPlaintext() throws Exception {
    try (TestServer server = start("--tls_cert_file=" + serverCert.cert(), "--tls_key_file=" + serverCert.key())) {
      assertThat(predictOverHttps(server, null)).isEqualTo("{\"predictions\":[2.5]}");
      assertThatThrownBy(() -> TestServer.await(WebClient.create(vertx)
          .post(server.server.restPort(), "localhost", "/v1/models/hp:predict").sendBuffer(Buffer.buffer(BODY))))
          .as("plain HTTP to the TLS port").isNotNull();
      assertThat(predictOverGrpc(server, null).getCode()).isEqualTo(Status.Code.OK);
    }
  }

  @Test
  void requiresAClientCertificateOfTheClientCaWhenOneIsGiven() throws Exception {
    try (TestServer server = start("--tls_cert_file=" + serverCert.cert(), "--tls_key_file=" + serverCert.key(),
        "--tls_client_ca_file=" + authority.caCert())) {
      assertThat(predictOverHttps(server, clientCert)).isEqualTo("{\"predictions\":[2.5]}");
      assertThatThrownBy(() -> predictOverHttps(server, null)).as("no client certificate").isNotNull();
      assertThatThrownBy(() -> predictOverHttps(server, strangerCert)).as("another CA's certificate").isNotNull();
      assertThat(predictOverGrpc(server, clientCert).getCode()).isEqualTo(Status.Code.OK);
      assertThat(predictOverGrpc(server, null).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(predictOverGrpc(server, strangerCert).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    }
  }

  /** TF Serving's --ssl_config_file holds the PEM text itself; client_verify requires client certificates. */
  @Test
  void readsTensorFlowServingsSslConfig() throws Exception {
    Path ssl = Files.writeString(dir.resolve("ssl.config"), """
        server_key: "%s"
        server_cert: "%s"
        custom_ca: "%s"
        client_verify: true
        """.formatted(escaped(serverCert.key()), escaped(serverCert.cert()), escaped(authority.caCert())));
    try (TestServer server = start("--ssl_config_file=" + ssl)) {
      assertThat(predictOverHttps(server, clientCert)).isEqualTo("{\"predictions\":[2.5]}");
      assertThat(predictOverGrpc(server, clientCert).getCode()).isEqualTo(Status.Code.OK);
      assertThat(predictOverGrpc(server, null).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    }
  }

  private static TestServer start(String... tls) throws Exception {
    String[] args = new String[tls.length + 4];
    args[0] = "--rest_api_port=0";
    args[1] = "--port=" + TestServer.freePort();
    args[2] = "--model_name=hp";
    args[3] = "--model_base_path=" + TestModels.tfServing("saved_model_half_plus_two_cpu");
    System.arraycopy(tls, 0, args, 4, tls.length);
    return TestServer.start(args);
  }

  private static String predictOverHttps(TestServer server, TestCertificates.Issued client) throws Exception {
    WebClientOptions options = new WebClientOptions().setSsl(true)
        .setTrustOptions(new PemTrustOptions().addCertPath(authority.caCert().toString()));
    if (client != null) {
      options.setKeyCertOptions(new PemKeyCertOptions().setCertPath(client.cert().toString())
          .setKeyPath(client.key().toString()));
    }
    WebClient https = WebClient.create(vertx, options);
    try {
      return TestServer.await(https.post(server.server.restPort(), "localhost", "/v1/models/hp:predict")
          .sendBuffer(Buffer.buffer(BODY))).bodyAsString();
    } finally {
      https.close();
    }
  }

  /** The status of one Predict over gRPC with TLS, trusting the test CA. */
  private static Status predictOverGrpc(TestServer server, TestCertificates.Issued client) throws Exception {
    SslContextBuilder ssl = GrpcSslContexts.forClient().trustManager(authority.caCert().toFile());
    if (client != null) {
      ssl.keyManager(client.cert().toFile(), client.key().toFile());
    }
    ManagedChannel channel = NettyChannelBuilder.forAddress("localhost", server.server.grpcPort())
        .sslContext(ssl.build()).build();
    try {
      PredictionServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
          .predict(GrpcApiTest.request("hp", "x", GrpcApiTest.floats(new float[] {1}, 1)));
      return Status.OK;
    } catch (io.grpc.StatusRuntimeException e) {
      return e.getStatus();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static String escaped(Path pem) throws Exception {
    return Files.readString(pem).replace("\n", "\\n");
  }
}
