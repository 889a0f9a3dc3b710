package io.infergate.app;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code infergate gateway}: a gateway process of the cluster; it loads no model and no TF natives. */
@Command(name = "gateway", mixinStandardHelpOptions = true,
    description = "Run a gateway in the Infergate cluster: REST and gRPC APIs, routing requests to workers.")
final class GatewayCommand implements Callable<Integer> {

  @Mixin
  GatewayFlags gateway;

  @Mixin
  ClusterFlags cluster;

  @Override
  public Integer call() throws Exception {
    return Processes.runUntilStopped(() -> {
      String version = Main.class.getPackage().getImplementationVersion();
      return ClusterNodes.start(cluster.toOptions(), null, gateway.toOptions(version == null ? "dev" : version),
          gateway.eventLoops()).map(ClusterNodes.Member::node);
    });
  }
}
