package io.infergate.app;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code infergate serve}: gateway and worker in one JVM, until the process is stopped. */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Serve TensorFlow SavedModels over TF Serving's REST and gRPC APIs and the Open Inference "
        + "Protocol, gateway and worker in one process.")
final class ServeCommand implements Callable<Integer> {

  @Mixin
  ServeFlags flags;

  @Override
  public Integer call() throws Exception {
    return Processes.runUntilStopped(() -> InfergateServer.start(flags.toOptions()));
  }
}
