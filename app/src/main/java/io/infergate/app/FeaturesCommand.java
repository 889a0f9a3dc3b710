package io.infergate.app;

import io.infergate.app.features.FeatureLoader;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code infergate features load}: puts features into Redis for the gateway to fetch. */
@Command(name = "features", mixinStandardHelpOptions = true, description = "Manage online features.",
    subcommands = FeaturesCommand.Load.class)
final class FeaturesCommand {

  @Command(name = "load", mixinStandardHelpOptions = true,
      description = "Load features into Redis from a CSV (key,f0,f1,... -> one hash per row) or JSON lines "
          + "({\"key\", \"values\": {field: number}} -> a hash, or {\"key\", \"vector\": [numbers]} -> a packed float32 vector).")
  static final class Load implements Callable<Integer> {

    @Option(names = "--redis", defaultValue = "${env:INFERGATE_REDIS:-redis://127.0.0.1:6379}",
        description = "Redis URI. Default: ${DEFAULT-VALUE}")
    String redis;

    @Option(names = "--file", required = true, description = "A .csv or .jsonl file")
    Path file;

    @Override
    public Integer call() throws Exception {
      FeatureLoader.Summary summary = new FeatureLoader(System.err).load(redis, file);
      System.out.printf("Loaded %,d hashes and %,d vectors into %s in %.1f s (%,.0f keys/s); %,d failed%n",
          summary.hashes(), summary.vectors(), redis, summary.millis() / 1000.0,
          (summary.hashes() + summary.vectors()) * 1000.0 / Math.max(1, summary.millis()), summary.failed());
      return summary.failed() == 0 ? 0 : 1;
    }
  }
}
