package io.infergate.app;

import io.infergate.app.demo.DemoCtrTrainer;
import io.infergate.app.demo.DemoFeatures;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code infergate train-demo}: trains the demo CTR model and exports its versions. */
@Command(name = "train-demo", mixinStandardHelpOptions = true,
    description = "Train a small click-through-rate model with TF Java on synthetic data, export versions 1 "
        + "(first epoch) and 2 (trained) as SavedModels under <out>/ctr, and 3 (version 2 with int8 weights), "
        + "and write a demo feature set for Redis under <out>/features.")
final class TrainDemoCommand implements Callable<Integer> {

  @Option(names = "--out", required = true, description = "Directory to write <out>/ctr/{1,2} into")
  Path out;

  @Option(names = "--epochs", defaultValue = "6", description = "Training epochs (at least 2). Default: ${DEFAULT-VALUE}")
  int epochs;

  @Option(names = "--seed", defaultValue = "42", description = "Random seed of data and weights. Default: ${DEFAULT-VALUE}")
  long seed;

  @Option(names = "--hidden_units", defaultValue = "" + DemoCtrTrainer.DEFAULT_HIDDEN_UNITS,
      description = "Width of the hidden layer; a wider model costs more per row, for load tests. Default: ${DEFAULT-VALUE}")
  int hiddenUnits;

  @Option(names = "--int8_version", arity = "0..1", fallbackValue = "true", defaultValue = "true",
      description = "Also export version 3: version 2 with int8 weights and a scale per column, dequantized in the "
          + "graph. Default: ${DEFAULT-VALUE}")
  boolean int8Version;

  @Override
  public Integer call() throws Exception {
    new DemoCtrTrainer(seed, epochs, hiddenUnits, int8Version, System.out).train(out);
    Path features = DemoFeatures.write(out, 1000, 1000, seed);
    System.out.println("Wrote a demo feature set (1,000 users, 1,000 items) under " + out.resolve("features")
        + " and its gateway config " + features);
    return 0;
  }
}
