package io.infergate.worker.lifecycle;

import io.infergate.common.config.ConfigException;
import io.infergate.common.config.TextProtoFiles;
import io.infergate.proto.serving.ModelConfig;
import io.infergate.proto.serving.ModelConfigList;
import io.infergate.proto.serving.ModelServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/** Builds and checks the ModelServerConfig, so a bad one stops the server before it starts. */
public final class ModelServerConfigs {

  private ModelServerConfigs() {}

  /** The config of --model_name/--model_base_path (single-model mode). */
  public static ModelServerConfig singleModel(String name, String basePath) {
    return ModelServerConfig.newBuilder().setModelConfigList(ModelConfigList.newBuilder()
        .addConfig(ModelConfig.newBuilder().setName(name).setBasePath(basePath).setModelPlatform("tensorflow")))
        .build();
  }

  public static ModelServerConfig read(Path file) {
    return TextProtoFiles.read(file, ModelServerConfig.getDefaultInstance());
  }

  /** Rejects configs that cannot work: no models, unsupported platforms, bad or duplicate names, missing base paths. */
  public static ModelServerConfig validated(ModelServerConfig config) {
    if (config.hasCustomModelConfig()) {
      throw new ConfigException("custom_model_config is not supported; use model_config_list");
    }
    if (config.getModelConfigList().getConfigCount() == 0) {
      throw new ConfigException("The model config lists no models");
    }
    Set<String> names = new HashSet<>();
    for (ModelConfig model : config.getModelConfigList().getConfigList()) {
      String name = model.getName();
      if (name.isEmpty() || name.contains("/") || name.contains(":")) {
        throw new ConfigException("Model name '" + name + "' must be non-empty and contain no '/' or ':'");
      }
      if (!names.add(name)) {
        throw new ConfigException("Model '" + name + "' is configured more than once");
      }
      if (!model.getModelPlatform().isEmpty() && !"tensorflow".equals(model.getModelPlatform())) {
        throw new ConfigException("Model '" + name + "' has model_platform '" + model.getModelPlatform()
            + "'; only 'tensorflow' is served");
      }
      if (model.getBasePath().isEmpty()) {
        throw new ConfigException("Model '" + name + "' has no base_path");
      }
      if (!Files.isDirectory(Path.of(model.getBasePath()))) {
        throw new ConfigException("Base path " + model.getBasePath() + " of model '" + name
            + "' does not exist or is not a directory");
      }
      for (var label : model.getVersionLabelsMap().keySet()) {
        if (!label.matches("[a-zA-Z0-9_]+")) {
          throw new ConfigException("Version label '" + label + "' of model '" + name
              + "' must match [a-zA-Z0-9_]+");
        }
      }
    }
    return config;
  }
}
