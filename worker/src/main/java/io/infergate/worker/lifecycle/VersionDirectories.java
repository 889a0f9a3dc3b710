package io.infergate.worker.lifecycle;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Finds the versions under a model's base path: sub-directories named by a non-negative
 * number, zero-padded or not (00000123 is version 123).
 */
public final class VersionDirectories {

  private VersionDirectories() {}

  /** Each version found, with its directory; blocks on file I/O. */
  public static NavigableMap<Long, Path> list(Path basePath) {
    TreeMap<Long, Path> versions = new TreeMap<>();
    try (Stream<Path> children = Files.list(basePath)) {
      children.filter(Files::isDirectory).forEach(dir -> {
        String name = dir.getFileName().toString();
        if (!name.isEmpty() && name.length() <= 18 && name.chars().allMatch(Character::isDigit)) {
          versions.put(Long.parseLong(name), dir);
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list versions under " + basePath, e);
    }
    return Collections.unmodifiableNavigableMap(versions);
  }
}
