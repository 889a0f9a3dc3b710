package io.infergate.app;

import io.infergate.app.demo.DemoCtrTrainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code infergate demo}: trains the demo CTR model once, then serves it. */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Train the demo CTR model (unless <dir>/ctr exists) and serve it as model 'ctr'. "
        + "Takes every flag of 'serve'.")
final class DemoCommand implements Callable<Integer> {

  @Option(names = "--dir", defaultValue = "demo-models", description = "Where the demo model lives. Default: ${DEFAULT-VALUE}")
  Path dir;

  @Mixin
  ServeFlags flags;

  @Override
  public Integer call() throws Exception {
    Path basePath = dir.resolve(DemoCtrTrainer.MODEL_NAME);
    if (!Files.isDirectory(basePath.resolve("2"))) {
      new DemoCtrTrainer(42, 6, System.out).train(dir);
    }
    if (flags.worker.modelConfigFile == null && flags.worker.modelBasePath == null) {
      flags.worker.modelName = DemoCtrTrainer.MODEL_NAME;
      flags.worker.modelBasePath = basePath.toAbsolutePath().toString();
    }
    return ServeCommand.serve(flags);
  }
}
