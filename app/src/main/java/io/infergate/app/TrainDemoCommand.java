package io.infergate.app;

import io.infergate.app.demo.DemoCtrTrainer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code infergate train-demo}: trains the demo CTR model and exports two versions. */
@Command(name = "train-demo", mixinStandardHelpOptions = true,
    description = "Train a small click-through-rate model with TF Java on synthetic data and export "
        + "versions 1 and 2 as SavedModels under <out>/ctr.")
final class TrainDemoCommand implements Callable<Integer> {

  @Option(names = "--out", required = true, description = "Directory to write <out>/ctr/{1,2} into")
  Path out;

  @Option(names = "--epochs", defaultValue = "6", description = "Training epochs (at least 2). Default: ${DEFAULT-VALUE}")
  int epochs;

  @Option(names = "--seed", defaultValue = "42", description = "Random seed of data and weights. Default: ${DEFAULT-VALUE}")
  long seed;

  @Override
  public Integer call() throws Exception {
    new DemoCtrTrainer(seed, epochs, System.out).train(out);
    return 0;
  }
}
