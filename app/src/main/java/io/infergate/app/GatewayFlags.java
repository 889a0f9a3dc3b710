package io.infergate.app;

import io.infergate.common.config.ConfigException;
import io.infergate.common.config.TextProtoFiles;
import io.infergate.gateway.GatewayOptions;
import io.infergate.gateway.TlsOptions;
import io.infergate.gateway.readiness.PathWarmup;
import io.infergate.gateway.admission.Admission;
import io.infergate.gateway.policy.PolicyOptions;
import io.infergate.gateway.policy.PolicyServices;
import io.infergate.proto.features.FeatureConfig;
import io.infergate.proto.serving.MonitoringConfig;
import io.infergate.proto.serving.SSLConfig;
import io.vertx.core.http.ClientAuth;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The gateway's flags: tensorflow_model_server's names and meanings where it has them. Each can
 * also come from an environment variable (INFERGATE_ and the flag's name in capitals); a flag
 * on the command line wins.
 */
final class GatewayFlags {

  static final int CORES = Runtime.getRuntime().availableProcessors();
  static final String DEFAULT_METRICS_PATH = "/monitoring/prometheus/metrics";

  @Option(names = "--rest_api_port", defaultValue = "${env:INFERGATE_REST_API_PORT:-8501}",
      description = "REST port (TF Serving's and the Open Inference Protocol's APIs). 0 picks a free port. Default: ${DEFAULT-VALUE}")
  int restApiPort;

  @Option(names = "--rest_api_host", defaultValue = "${env:INFERGATE_REST_API_HOST:-0.0.0.0}",
      description = "Address the REST server listens on (0.0.0.0 = every interface). Default: ${DEFAULT-VALUE}")
  String restApiHost;

  @Option(names = "--grpc_host", defaultValue = "${env:INFERGATE_GRPC_HOST:-0.0.0.0}",
      description = "Address the gRPC server listens on (0.0.0.0 = every interface). Default: ${DEFAULT-VALUE}")
  String grpcHost;

  @Option(names = "--port", defaultValue = "${env:INFERGATE_PORT:-8500}",
      description = "gRPC port (TF Serving's and the Open Inference Protocol's gRPC APIs); 0 = no gRPC. Default: ${DEFAULT-VALUE}")
  int port;

  @Option(names = "--grpc_max_message_size", defaultValue = "${env:INFERGATE_GRPC_MAX_MESSAGE_SIZE:-67108864}",
      description = "Largest gRPC request message in bytes; larger ones fail with RESOURCE_EXHAUSTED. Default: ${DEFAULT-VALUE}")
  long grpcMaxMessageSize;

  @Option(names = "--rest_api_timeout_in_ms", defaultValue = "${env:INFERGATE_REST_API_TIMEOUT_IN_MS:-30000}",
      description = "Deadline of a REST request, in milliseconds. Default: ${DEFAULT-VALUE}")
  long restApiTimeoutMs;

  @Option(names = "--rest_api_num_threads", defaultValue = "${env:INFERGATE_REST_API_NUM_THREADS:-0}",
      description = "Event loops (and gateway verticles) serving REST; 0 = one per core. Default: ${DEFAULT-VALUE}")
  int restApiThreads;

  @Option(names = "--max_request_body_bytes", defaultValue = "${env:INFERGATE_MAX_REQUEST_BODY_BYTES:-16777216}",
      description = "Largest REST request body; larger ones get HTTP 413. Default: ${DEFAULT-VALUE}")
  long maxRequestBodyBytes;

  @Option(names = "--request_body_timeout_ms", defaultValue = "${env:INFERGATE_REQUEST_BODY_TIMEOUT_MS:-10000}",
      description = "Time a REST request's body may take to arrive, from its first byte; slower ones get HTTP 408 "
          + "and the connection is closed. Default: ${DEFAULT-VALUE}")
  long requestBodyTimeoutMs;

  @Option(names = "--idle_timeout_seconds", defaultValue = "${env:INFERGATE_IDLE_TIMEOUT_SECONDS:-120}",
      description = "Close a REST or gRPC connection that carried nothing for this long; 0 = never. Keep it above "
          + "the idle timeout of the load balancer in front. Default: ${DEFAULT-VALUE}")
  int idleTimeoutSeconds;

  @Option(names = "--max_connections", defaultValue = "${env:INFERGATE_MAX_CONNECTIONS:-4096}",
      description = "Connections the process keeps open, REST and gRPC together; a new one beyond is closed at once. "
          + "Default: ${DEFAULT-VALUE}")
  int maxConnections;

  @Option(names = "--max_concurrent_requests", defaultValue = "${env:INFERGATE_MAX_CONCURRENT_REQUESTS:-1024}",
      description = "Inference requests (predict, classify, regress, infer) the process takes in at once; beyond, "
          + "HTTP 503 / UNAVAILABLE with Retry-After at once. Size it as peak throughput x target latency. "
          + "Default: ${DEFAULT-VALUE}")
  int maxConcurrentRequests;

  @Option(names = "--max_concurrent_requests_per_model",
      defaultValue = "${env:INFERGATE_MAX_CONCURRENT_REQUESTS_PER_MODEL:-0}",
      description = "Inference requests one model may have in flight in this process; beyond, HTTP 429 / "
          + "RESOURCE_EXHAUSTED with Retry-After at once. 0 = --max_concurrent_requests. Default: ${DEFAULT-VALUE}")
  int maxConcurrentRequestsPerModel;

  @Option(names = "--max_inflight_request_bytes", defaultValue = "${env:INFERGATE_MAX_INFLIGHT_REQUEST_BYTES:-0}",
      description = "Memory the requests in flight may hold, each charged " + Admission.MEMORY_PER_BODY_BYTE
          + " times its JSON body or " + Admission.MEMORY_PER_MESSAGE_BYTE + " times its gRPC message; beyond, "
          + "HTTP 503 / UNAVAILABLE at once. 0 = a quarter of the maximum heap (at least one of the largest requests). "
          + "Default: ${DEFAULT-VALUE}")
  long maxInflightRequestBytes;

  @Option(names = "--ssl_config_file", defaultValue = "${env:INFERGATE_SSL_CONFIG_FILE}",
      description = "TF Serving's SSLConfig in text format (server_key, server_cert, custom_ca as PEM text; "
          + "client_verify): TLS on the REST and gRPC ports. Or use the --tls_* flags")
  Path sslConfigFile;

  @Option(names = "--tls_cert_file", defaultValue = "${env:INFERGATE_TLS_CERT_FILE}",
      description = "PEM certificate (chain) of the REST and gRPC ports; with --tls_key_file turns TLS on")
  Path tlsCertFile;

  @Option(names = "--tls_key_file", defaultValue = "${env:INFERGATE_TLS_KEY_FILE}",
      description = "PEM private key (PKCS#8 or PKCS#1) of --tls_cert_file")
  Path tlsKeyFile;

  @Option(names = "--tls_client_ca_file", defaultValue = "${env:INFERGATE_TLS_CLIENT_CA_FILE}",
      description = "PEM CA certificates whose client certificates are accepted")
  Path tlsClientCaFile;

  @Option(names = "--tls_client_auth", defaultValue = "${env:INFERGATE_TLS_CLIENT_AUTH:-}",
      description = "none, request or required: whether clients must present a certificate of "
          + "--tls_client_ca_file. Default: required when a client CA is given, else none")
  String tlsClientAuth;

  @Option(names = "--monitoring_config_file", defaultValue = "${env:INFERGATE_MONITORING_CONFIG_FILE}",
      description = "MonitoringConfig in text format (Prometheus path or off); metrics are on by default")
  Path monitoringConfigFile;

  @Option(names = "--feature_config_file", defaultValue = "${env:INFERGATE_FEATURE_CONFIG_FILE}",
      description = "FeatureConfig in text format: which model inputs come from the feature store (Redis, "
          + "or without a redis block a Hazelcast map in the cluster)")
  Path featureConfigFile;

  @Option(names = "--shutdown_drain_seconds", defaultValue = "${env:INFERGATE_SHUTDOWN_DRAIN_SECONDS:-0}",
      description = "On SIGTERM, report not ready and keep serving this long before closing, so load balancers "
          + "(Kubernetes readiness probes) stop sending first. Default: ${DEFAULT-VALUE}")
  double shutdownDrainSeconds;

  @Option(names = "--serving_policy_file", defaultValue = "${env:INFERGATE_SERVING_POLICY_FILE}",
      description = "ServingPolicy in text format: each model's default priority, quotas (per model and per tenant) "
          + "and response cache. Read again every --serving_policy_file_poll_wait_seconds; the admin API's "
          + "policies win over it")
  Path servingPolicyFile;

  @Option(names = "--serving_policy_file_poll_wait_seconds",
      defaultValue = "${env:INFERGATE_SERVING_POLICY_FILE_POLL_WAIT_SECONDS:-10}",
      description = "How often the serving policy file is read for changes; 0 = only at start. Default: ${DEFAULT-VALUE}")
  int servingPolicyFilePollWaitSeconds;

  @Option(names = "--response_cache_redis", defaultValue = "${env:INFERGATE_RESPONSE_CACHE_REDIS}",
      description = "Redis URI (redis://host:port, rediss:// for TLS) where gateways share the answers of models whose "
          + "cache policy says shared: true")
  String responseCacheRedis;

  @Option(names = "--admin_token", defaultValue = "${env:INFERGATE_ADMIN_TOKEN}",
      description = "Bearer token of the admin API (/admin/...); without it the admin API is off")
  String adminToken;

  @Option(names = "--path_warmup_requests", defaultValue = "${env:INFERGATE_PATH_WARMUP_REQUESTS:-200}",
      description = "Before reporting ready, send each kind of made-up request (every protocol, per model; with "
          + "features both fetched and supplied) this many times through the process's own listeners, so the "
          + "first real requests find the path warm; 0 = report ready without. Default: ${DEFAULT-VALUE}")
  int pathWarmupRequests;

  @Option(names = "--path_warmup_timeout_seconds", defaultValue = "${env:INFERGATE_PATH_WARMUP_TIMEOUT_SECONDS:-30}",
      description = "The warm-up's bound: past it the process reports ready anyway. Default: ${DEFAULT-VALUE}")
  double pathWarmupTimeoutSeconds;

  /** Checks the gateway's flags; throws ConfigException with a clear message. */
  GatewayOptions toOptions(String serverVersion) {
    if (port < 0 || port > 65535 || restApiPort < 0 || restApiPort > 65535) {
      throw new ConfigException("Ports must be between 0 and 65535");
    }
    if (port != 0 && port == restApiPort) {
      throw new ConfigException("--port and --rest_api_port must differ, both are " + port);
    }
    if (restApiTimeoutMs <= 0) {
      throw new ConfigException("--rest_api_timeout_in_ms must be positive");
    }
    if (requestBodyTimeoutMs <= 0) {
      throw new ConfigException("--request_body_timeout_ms must be positive");
    }
    if (idleTimeoutSeconds < 0) {
      throw new ConfigException("--idle_timeout_seconds cannot be negative");
    }
    if (maxConnections <= 0 || maxConcurrentRequests <= 0) {
      throw new ConfigException("--max_connections and --max_concurrent_requests must be positive");
    }
    if (maxConcurrentRequestsPerModel < 0 || maxInflightRequestBytes < 0) {
      throw new ConfigException("--max_concurrent_requests_per_model and --max_inflight_request_bytes cannot be "
          + "negative");
    }
    long largestRequest = Math.max(maxRequestBodyBytes * Admission.MEMORY_PER_BODY_BYTE,
        grpcMaxMessageSize * Admission.MEMORY_PER_MESSAGE_BYTE);
    // By default a quarter of the heap, and always room for one of the largest requests allowed.
    long memoryBudget = maxInflightRequestBytes > 0 ? maxInflightRequestBytes
        : Math.max(Runtime.getRuntime().maxMemory() / 4, largestRequest);
    if (memoryBudget < largestRequest) {
      throw new ConfigException("--max_inflight_request_bytes (" + memoryBudget + ") cannot hold even one of the "
          + "largest requests allowed (" + largestRequest + " bytes charged for --max_request_body_bytes or "
          + "--grpc_max_message_size); raise it, or lower those limits");
    }
    if (pathWarmupRequests < 0 || pathWarmupTimeoutSeconds < 0) {
      throw new ConfigException("--path_warmup_requests and --path_warmup_timeout_seconds cannot be negative");
    }
    MonitoringConfig monitoring = monitoringConfigFile == null ? MonitoringConfig.getDefaultInstance()
        : TextProtoFiles.read(monitoringConfigFile, MonitoringConfig.getDefaultInstance());
    return new GatewayOptions(new GatewayOptions.Listen(restApiHost, restApiPort, grpcHost, port),
        new GatewayOptions.Limits(restApiTimeoutMs, maxRequestBodyBytes, grpcMaxMessageSize, requestBodyTimeoutMs,
            idleTimeoutSeconds),
        new Admission.Limits(maxConnections, maxConcurrentRequests,
            maxConcurrentRequestsPerModel == 0 ? maxConcurrentRequests : maxConcurrentRequestsPerModel, memoryBudget),
        tls(),
        metricsPath(monitoring), serverVersion,
        adminToken == null || adminToken.isEmpty() ? null : adminToken, featureConfig(),
        Math.round(shutdownDrainSeconds * 1000), policyOptions(),
        new PathWarmup.Options(pathWarmupRequests, Math.round(pathWarmupTimeoutSeconds * 1000)));
  }

  private PolicyOptions policyOptions() {
    if (servingPolicyFilePollWaitSeconds < 0) {
      throw new ConfigException("--serving_policy_file_poll_wait_seconds cannot be negative");
    }
    if (servingPolicyFile != null) {
      PolicyServices.read(servingPolicyFile); // fails fast, with the file's error
    }
    return new PolicyOptions(servingPolicyFile, servingPolicyFilePollWaitSeconds,
        responseCacheRedis == null || responseCacheRedis.isBlank() ? null : responseCacheRedis);
  }

  /** TLS from TF Serving's SSLConfig or from PEM files; null for plaintext. */
  private TlsOptions tls() {
    boolean files = tlsCertFile != null || tlsKeyFile != null || tlsClientCaFile != null || !tlsClientAuth.isEmpty();
    if (sslConfigFile != null && files) {
      throw new ConfigException("Give TLS either as --ssl_config_file or as --tls_* flags, not both");
    }
    if (sslConfigFile != null) {
      SSLConfig ssl = TextProtoFiles.read(sslConfigFile, SSLConfig.getDefaultInstance());
      if (ssl.getServerCert().isBlank() || ssl.getServerKey().isBlank()) {
        throw new ConfigException("The SSL config " + sslConfigFile + " needs server_cert and server_key");
      }
      if (ssl.getClientVerify() && ssl.getCustomCa().isBlank()) {
        throw new ConfigException("client_verify in " + sslConfigFile + " needs custom_ca");
      }
      return new TlsOptions(Pem.certificates(ssl.getServerCert(), "server_cert"), Pem.key(ssl.getServerKey()),
          ssl.getCustomCa().isBlank() ? null : Pem.certificates(ssl.getCustomCa(), "custom_ca"),
          ssl.getClientVerify() ? ClientAuth.REQUIRED : ssl.getCustomCa().isBlank() ? ClientAuth.NONE : ClientAuth.REQUEST);
    }
    if (!files) {
      return null;
    }
    if (tlsCertFile == null || tlsKeyFile == null) {
      throw new ConfigException("TLS needs both --tls_cert_file and --tls_key_file");
    }
    String clientCa = tlsClientCaFile == null ? null : Pem.certificates(Pem.read(tlsClientCaFile), tlsClientCaFile);
    ClientAuth auth = switch (tlsClientAuth) {
      case "" -> clientCa == null ? ClientAuth.NONE : ClientAuth.REQUIRED;
      case "none" -> ClientAuth.NONE;
      case "request" -> ClientAuth.REQUEST;
      case "required" -> ClientAuth.REQUIRED;
      default -> throw new ConfigException("--tls_client_auth must be none, request or required, not '"
          + tlsClientAuth + "'");
    };
    if (auth != ClientAuth.NONE && clientCa == null) {
      throw new ConfigException("--tls_client_auth=" + tlsClientAuth + " needs --tls_client_ca_file");
    }
    return new TlsOptions(Pem.certificates(Pem.read(tlsCertFile), tlsCertFile), Pem.key(Pem.read(tlsKeyFile)),
        clientCa, auth);
  }

  private FeatureConfig featureConfig() {
    if (featureConfigFile == null) {
      return null;
    }
    FeatureConfig config = TextProtoFiles.read(featureConfigFile, FeatureConfig.getDefaultInstance());
    if (config.hasRedis() && config.getRedis().getUri().isEmpty()) {
      throw new ConfigException("The redis block of the feature config " + featureConfigFile + " has no uri");
    }
    return config;
  }

  /** Whether the features live in Hazelcast, which a single process holds in an embedded member. */
  boolean featureStoreIsHazelcast() {
    FeatureConfig config = featureConfig();
    return config != null && !config.hasRedis();
  }

  int eventLoops() {
    return restApiThreads == 0 ? CORES : restApiThreads;
  }

  /** Metrics are on by default; a monitoring config can move them or switch them off. */
  private static String metricsPath(MonitoringConfig monitoring) {
    if (!monitoring.hasPrometheusConfig()) {
      return DEFAULT_METRICS_PATH;
    }
    if (!monitoring.getPrometheusConfig().getEnable()) {
      return null;
    }
    String path = monitoring.getPrometheusConfig().getPath();
    return path.isEmpty() ? DEFAULT_METRICS_PATH : path;
  }
}
