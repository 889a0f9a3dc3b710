package io.infergate.app;

import picocli.CommandLine.Mixin;

/** The flags of the single-process server: the gateway's and the worker's. */
final class ServeFlags {

  @Mixin
  GatewayFlags gateway = new GatewayFlags();

  @Mixin
  WorkerFlags worker = new WorkerFlags();

  /** Checks every flag and config file; throws ConfigException with a clear message. */
  ServeOptions toOptions() {
    String version = Main.class.getPackage().getImplementationVersion();
    return new ServeOptions(gateway.toOptions(version == null ? "dev" : version), worker.toOptions(),
        gateway.eventLoops());
  }
}
