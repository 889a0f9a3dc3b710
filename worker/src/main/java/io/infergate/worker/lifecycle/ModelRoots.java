package io.infergate.worker.lifecycle;

import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.infergate.proto.serving.ModelConfig;
import io.infergate.proto.serving.ModelServerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The folders a model config sent by a client (gRPC's HandleReloadConfigRequest) may load models
 * from, so that holding the admin token is not a way to read any folder on the worker's disk.
 * Paths are compared after resolving symbolic links and "..".
 */
public record ModelRoots(List<Path> roots) {

  public ModelRoots {
    roots = roots.stream().map(ModelRoots::real).distinct().toList();
  }

  /** By default, the folders that hold the started config's base paths (its model repository). */
  public static ModelRoots around(ModelServerConfig config) {
    Set<Path> parents = new LinkedHashSet<>();
    for (ModelConfig model : config.getModelConfigList().getConfigList()) {
      Path base = real(Path.of(model.getBasePath()));
      parents.add(base.getParent() != null ? base.getParent() : base);
    }
    return new ModelRoots(List.copyOf(parents));
  }

  /** @throws ServingException PERMISSION_DENIED when a model lives outside every root */
  public void check(ModelServerConfig config) {
    for (ModelConfig model : config.getModelConfigList().getConfigList()) {
      Path base = real(Path.of(model.getBasePath()));
      if (roots.stream().noneMatch(base::startsWith)) {
        throw new ServingException(StatusCode.PERMISSION_DENIED, "Base path " + model.getBasePath() + " of model '"
            + model.getName() + "' is outside the allowed model roots " + roots + " (--allowed_model_roots)");
      }
    }
  }

  private static Path real(Path path) {
    Path absolute = path.toAbsolutePath().normalize();
    try {
      return Files.exists(absolute) ? absolute.toRealPath() : absolute;
    } catch (IOException e) {
      return absolute;
    }
  }
}
