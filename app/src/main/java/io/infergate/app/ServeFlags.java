package io.infergate.app;

import io.infergate.common.config.ConfigException;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The flags of the single-process server: the gateway's and the worker's. */
final class ServeFlags {

  /** Vert.x's pools for blocking work (file reads, config polls) in the small footprint. */
  static final int SMALL_BLOCKING_THREADS = 2;

  @Mixin
  GatewayFlags gateway = new GatewayFlags();

  @Mixin
  WorkerFlags worker = new WorkerFlags();

  @Option(names = "--small_footprint", arity = "0..1", fallbackValue = "true",
      defaultValue = "${env:INFERGATE_SMALL_FOOTPRINT:-false}",
      description = "For a small device: one event loop, one inference and one load thread, two blocking threads, "
          + "whatever the cores (flags given win), and no Hazelcast member (features from Redis or none). "
          + "bin/infergate also caps the JVM's heap, metaspace and code cache for it. Default: ${DEFAULT-VALUE}")
  boolean smallFootprint;

  /** Checks every flag and config file; throws ConfigException with a clear message. */
  ServeOptions toOptions() {
    if (smallFootprint) {
      shrink();
    }
    String version = Main.class.getPackage().getImplementationVersion();
    return new ServeOptions(gateway.toOptions(version == null ? "dev" : version), worker.toOptions(),
        gateway.eventLoops(), smallFootprint ? SMALL_BLOCKING_THREADS : 0);
  }

  /** Thread counts left at 0 (as many as cores) become 1; an embedded Hazelcast member is refused. */
  private void shrink() {
    if (gateway.restApiThreads == 0) {
      gateway.restApiThreads = 1;
    }
    if (worker.numInferenceThreads == 0) {
      worker.numInferenceThreads = 1;
    }
    if (worker.numLoadThreads == 0) {
      worker.numLoadThreads = 1;
    }
    if (gateway.featureStoreIsHazelcast()) {
      throw new ConfigException("--small_footprint runs no Hazelcast member: take the features from Redis "
          + "(a redis block in " + gateway.featureConfigFile + ") or send them in the requests");
    }
  }
}
