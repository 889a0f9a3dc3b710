package io.infergate.app;

import io.infergate.app.demo.DemoCtrTrainer;
import io.infergate.app.demo.DemoFeatures;
import io.infergate.app.features.HazelcastSink;
import io.infergate.common.config.ConfigException;
import io.infergate.proto.registry.TrafficPolicy;
import io.infergate.proto.registry.TrafficTarget;
import io.infergate.proto.registry.WeightedTarget;
import io.infergate.gateway.features.HazelcastFeatureStore;
import io.vertx.core.Future;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code infergate demo}: trains the demo CTR model once, then serves its float version beside its
 * int8 one behind a weighted split, with the demo features.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Train the demo CTR model (unless <dir>/ctr has its versions) and serve it as model 'ctr': version 2 "
        + "(float weights, label 'float') and version 3 (int8 weights, label 'int8') behind a weighted split, with "
        + "the demo feature set in an embedded Hazelcast map (entity ids in, scores out). Takes every flag of 'serve'.")
final class DemoCommand implements Callable<Integer> {

  static final String MODEL_CONFIG = "ctr.config";

  @Option(names = "--dir", defaultValue = "demo-models", description = "Where the demo model lives. Default: ${DEFAULT-VALUE}")
  Path dir;

  @Option(names = "--int8_percent", defaultValue = "10",
      description = "Share of the requests that name no version which the int8 version answers. Default: ${DEFAULT-VALUE}")
  int int8Percent;

  @Mixin
  ServeFlags flags;

  @Override
  public Integer call() throws Exception {
    return Processes.runUntilStopped(this::start);
  }

  private Future<Node> start() throws IOException {
    if (int8Percent < 0 || int8Percent > 100) {
      throw new ConfigException("--int8_percent must be between 0 and 100, not " + int8Percent);
    }
    Path basePath = dir.resolve(DemoCtrTrainer.MODEL_NAME);
    if (!Files.isDirectory(basePath.resolve(Long.toString(DemoCtrTrainer.INT8_VERSION)))) {
      new DemoCtrTrainer(42, 6, System.out).train(dir);
    }
    if (!Files.exists(dir.resolve(DemoFeatures.HAZELCAST_CONFIG))) {
      DemoFeatures.write(dir, 1000, 1000, 42);
    }
    boolean demoModel = flags.worker.modelConfigFile == null && flags.worker.modelBasePath == null;
    if (demoModel) {
      flags.worker.modelConfigFile = Files.writeString(dir.resolve(MODEL_CONFIG), modelConfig(basePath));
      if (flags.gateway.featureConfigFile == null && !flags.smallFootprint) {
        flags.gateway.featureConfigFile = dir.resolve(DemoFeatures.HAZELCAST_CONFIG);
      }
    }
    return InfergateServer.start(flags.toOptions())
        .compose(node -> demoModel ? splitTraffic(node, int8Percent) : Future.succeededFuture(node))
        .compose(node -> loadDemoFeatures(node, dir));
  }

  /** The float and the int8 version of the trained model, each under a label of its kind. */
  static String modelConfig(Path basePath) {
    return """
        model_config_list {
          config {
            name: "%s"
            base_path: "%s"
            model_platform: "tensorflow"
            model_version_policy { specific { versions: %d versions: %d } }
            version_labels { key: "float" value: %d }
            version_labels { key: "int8" value: %d }
          }
        }
        """.formatted(DemoCtrTrainer.MODEL_NAME, basePath.toAbsolutePath(), DemoCtrTrainer.FLOAT_VERSION,
        DemoCtrTrainer.INT8_VERSION, DemoCtrTrainer.FLOAT_VERSION, DemoCtrTrainer.INT8_VERSION);
  }

  /** Requests that name no version: int8Percent of them to the int8 version, the rest to the float one. */
  static Future<Node> splitTraffic(Node node, int int8Percent) {
    TrafficPolicy.Builder split = TrafficPolicy.newBuilder();
    Map.of("float", 100 - int8Percent, "int8", int8Percent).forEach((label, weight) -> {
      if (weight > 0) {
        split.addSplit(WeightedTarget.newBuilder().setTarget(TrafficTarget.newBuilder().setLabel(label)).setWeight(weight));
      }
    });
    return node.registry().updateOverrides(DemoCtrTrainer.MODEL_NAME, overrides -> overrides.toBuilder().setTraffic(split).build())
        .map(node);
  }

  /** Puts the demo feature set into the embedded Hazelcast map, when that is where the features live. */
  static Future<Node> loadDemoFeatures(Node node, Path dir) {
    if (node.features() == null || !(node.features().store().backing() instanceof HazelcastFeatureStore store)) {
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
