package io.infergate.worker.runtime;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * What a loaded version costs in memory. TensorFlow Java does not expose its CPU allocator's
 * statistics, so a load is measured by the growth of the process's resident memory while it
 * loads and warms up (exact with one load thread, the default; concurrent loads blur it), and
 * never counted below the size of the model's files, which its weights at least occupy.
 */
public final class ResidentMemory {

  private static final Path STATUS = Path.of("/proc/self/status");

  private ResidentMemory() {}

  /** The process's resident set in bytes (Linux), or 0 where /proc does not tell. */
  public static long bytes() {
    try (Stream<String> lines = Files.lines(STATUS)) {
      return lines.filter(line -> line.startsWith("VmRSS:")).findFirst()
          .map(line -> Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024).orElse(0L);
    } catch (IOException | UncheckedIOException e) {
      return 0;
    }
  }

  /** A version's footprint: the growth measured over its load, at least its files' size. */
  static long footprint(long residentBefore, long residentAfter, Path versionDirectory) throws IOException {
    return Math.max(residentAfter - residentBefore, filesSize(versionDirectory));
  }

  private static long filesSize(Path directory) throws IOException {
    try (Stream<Path> files = Files.walk(directory)) {
      return files.filter(Files::isRegularFile).mapToLong(file -> {
        try {
          return Files.size(file);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }).sum();
    }
  }
}
