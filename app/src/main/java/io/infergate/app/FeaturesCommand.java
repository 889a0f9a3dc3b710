package io.infergate.app;

import io.infergate.app.features.FeatureLoader;
import io.infergate.app.features.FeatureSink;
import io.infergate.app.features.GatewaySink;
import io.infergate.common.config.ConfigException;
import io.infergate.app.features.RedisSink;
import java.net.URI;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code infergate features load}: puts features into Redis, or into the cluster's Hazelcast map
 * through a gateway's admin API, for the gateways to fetch.
 */
@Command(name = "features", mixinStandardHelpOptions = true, description = "Manage online features.",
    subcommands = FeaturesCommand.Load.class)
final class FeaturesCommand {

  @Command(name = "load", mixinStandardHelpOptions = true,
      description = "Load features into Redis or, through a gateway, the cluster's Hazelcast map from a CSV "
          + "(key,f0,f1,... -> one hash per row) "
          + "or JSON lines ({\"key\", \"values\": {field: number}} -> a hash, or {\"key\", \"vector\": [numbers]} "
          + "-> a packed float32 vector).")
  static final class Load implements Callable<Integer> {

    static final class Target {
      @Option(names = "--redis", description = "Redis URI, e.g. redis://127.0.0.1:6379 (env INFERGATE_REDIS)")
      String redis;

      @Option(names = "--gateway", description = "REST address of a gateway whose features are in Hazelcast (a "
          + "cluster's, or a single-process server's embedded member), e.g. https://10.0.0.7:8501; loads through "
          + "its admin API")
      URI gateway;
    }

    @ArgGroup(exclusive = true)
    Target target;

    @Option(names = "--admin_token", defaultValue = "${env:INFERGATE_ADMIN_TOKEN}",
        description = "The gateway's admin token, with --gateway")
    String adminToken;

    @Option(names = "--ca_file", description = "PEM CAs that sign the gateway's certificate, for https")
    String caFile;

    @Option(names = "--cert_file", description = "PEM client certificate, when the gateway requires one")
    String certFile;

    @Option(names = "--key_file", description = "PEM key of --cert_file")
    String keyFile;

    @Option(names = "--file", required = true, description = "A .csv or .jsonl file")
    Path file;

    @Override
    public Integer call() throws Exception {
      try (FeatureSink sink = open()) {
        return load(sink, file);
      }
    }

    private FeatureSink open() {
      if (target != null && target.gateway != null) {
        if (adminToken == null || adminToken.isEmpty()) {
          throw new ConfigException("--gateway needs the gateway's --admin_token");
        }
        return new GatewaySink(target.gateway, adminToken, caFile, certFile, keyFile);
      }
      String redis = target != null && target.redis != null ? target.redis : System.getenv("INFERGATE_REDIS");
      return new RedisSink(redis == null || redis.isEmpty() ? "redis://127.0.0.1:6379" : redis);
    }
  }

  /** Loads one file and prints the summary; returns the exit code. */
  static int load(FeatureSink sink, Path file) throws java.io.IOException {
    FeatureLoader.Summary summary = new FeatureLoader(System.err).load(sink, file);
    System.out.printf("Loaded %,d hashes and %,d vectors into %s in %.1f s (%,.0f keys/s); %,d failed%n",
        summary.hashes(), summary.vectors(), sink.target(), summary.millis() / 1000.0,
        (summary.hashes() + summary.vectors()) * 1000.0 / Math.max(1, summary.millis()), summary.failed());
    return summary.failed() == 0 ? 0 : 1;
  }
}
