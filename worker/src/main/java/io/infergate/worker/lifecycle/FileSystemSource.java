package io.infergate.worker.lifecycle;

import io.infergate.proto.serving.ModelConfig;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.TreeMap;

/**
 * TF Serving's file-system source: the versions found under a model's base path and those its
 * version policy aspires to. It reads the disk on the given (blocking) executor.
 */
public final class FileSystemSource {

  private final WorkerExecutor io;

  public FileSystemSource(WorkerExecutor io) {
    this.io = io;
  }

  /** What one look at a model's folder found. */
  public record Versions(NavigableMap<Long, Path> onDisk, NavigableSet<Long> byPolicy) {

    /**
     * The aspired versions and their folders: the policy's choice, plus versions an operator
     * pinned to load (if on disk), minus those pinned to unload.
     *
     * @param pins an operator's orders by version: true to load, false to unload
     */
    public NavigableMap<Long, Path> aspired(Map<Long, Boolean> pins) {
      NavigableMap<Long, Path> aspired = new TreeMap<>();
      byPolicy.forEach(version -> aspired.put(version, onDisk.get(version)));
      pins.forEach((version, load) -> {
        if (!load) {
          aspired.remove(version);
        } else if (onDisk.containsKey(version)) {
          aspired.put(version, onDisk.get(version));
        }
      });
      return aspired;
    }
  }

  public Future<Versions> look(ModelConfig config) {
    Path basePath = Path.of(config.getBasePath());
    return io.executeBlocking(() -> {
      NavigableMap<Long, Path> onDisk = Files.isDirectory(basePath) ? VersionDirectories.list(basePath) : new TreeMap<>();
      return new Versions(onDisk, VersionPolicy.aspired(config.getModelVersionPolicy(), onDisk.keySet()));
    }, false);
  }
}
