package io.infergate.app;

import io.infergate.app.demo.DemoCtrTrainer;
import io.infergate.app.demo.DemoFeatures;
import io.infergate.app.features.HazelcastSink;
import io.infergate.gateway.features.HazelcastFeatureStore;
import io.vertx.core.Future;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code infergate demo}: trains the demo CTR model once, then serves it with its demo features. */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Train the demo CTR model (unless <dir>/ctr exists) and serve it as model 'ctr', with the demo "
        + "feature set in an embedded Hazelcast map (entity ids in, scores out). Takes every flag of 'serve'.")
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
    if (!Files.exists(dir.resolve(DemoFeatures.HAZELCAST_CONFIG))) {
      DemoFeatures.write(dir, 1000, 1000, 42);
    }
    boolean demoModel = flags.worker.modelConfigFile == null && flags.worker.modelBasePath == null;
    if (demoModel) {
      flags.worker.modelName = DemoCtrTrainer.MODEL_NAME;
      flags.worker.modelBasePath = basePath.toAbsolutePath().toString();
      if (flags.gateway.featureConfigFile == null) {
        flags.gateway.featureConfigFile = dir.resolve(DemoFeatures.HAZELCAST_CONFIG);
      }
    }
    return Processes.runUntilStopped(() -> InfergateServer.start(flags.toOptions())
        .compose(node -> loadDemoFeatures(node, dir)));
  }

  /** Puts the demo feature set into the embedded Hazelcast map, when that is where the features live. */
  static Future<Node> loadDemoFeatures(Node node, Path dir) {
    if (node.features() == null || !(node.features().store() instanceof HazelcastFeatureStore store)) {
      return Future.succeededFuture(node);
    }
    return node.vertx().executeBlocking(() -> {
      try (HazelcastSink sink = new HazelcastSink(store.hazelcast())) {
        for (String file : DemoFeatures.FILES) {
          FeaturesCommand.load(sink, dir.resolve(file));
        }
      }
      return node;
    });
  }
}
