package io.infergate.app;

import io.infergate.app.features.FeatureLoader;
import io.infergate.app.features.FeatureSink;
import io.infergate.app.features.HazelcastSink;
import io.infergate.app.features.RedisSink;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code infergate features load}: puts features into Redis or the cluster's Hazelcast map for the gateway to fetch. */
@Command(name = "features", mixinStandardHelpOptions = true, description = "Manage online features.",
    subcommands = FeaturesCommand.Load.class)
final class FeaturesCommand {

  @Command(name = "load", mixinStandardHelpOptions = true,
      description = "Load features into Redis or a Hazelcast map from a CSV (key,f0,f1,... -> one hash per row) "
          + "or JSON lines ({\"key\", \"values\": {field: number}} -> a hash, or {\"key\", \"vector\": [numbers]} "
          + "-> a packed float32 vector).")
  static final class Load implements Callable<Integer> {

    static final class Target {
      @Option(names = "--redis", description = "Redis URI, e.g. redis://127.0.0.1:6379 (env INFERGATE_REDIS)")
      String redis;

      @Option(names = "--hazelcast", description = "host:port of a cluster member or of a single-process server's "
          + "embedded member (the feature store when there is no Redis), e.g. 127.0.0.1:5701")
      String hazelcast;
    }

    @ArgGroup(exclusive = true)
    Target target;

    @Option(names = "--cluster_name", defaultValue = "${env:INFERGATE_CLUSTER_NAME:-infergate}",
        description = "Hazelcast cluster name, with --hazelcast. Default: ${DEFAULT-VALUE}")
    String clusterName;

    @Option(names = "--file", required = true, description = "A .csv or .jsonl file")
    Path file;

    @Override
    public Integer call() throws Exception {
      try (FeatureSink sink = open()) {
        return load(sink, file);
      }
    }

    private FeatureSink open() {
      if (target != null && target.hazelcast != null) {
        return HazelcastSink.connect(target.hazelcast, clusterName);
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
