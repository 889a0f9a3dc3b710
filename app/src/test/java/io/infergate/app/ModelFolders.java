package io.infergate.app;

import io.infergate.worker.runtime.TfRecords;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;

/** Builds model base paths for lifecycle tests, publishing version folders atomically as a deployer should. */
final class ModelFolders {

  private ModelFolders() {}

  /** Copies a version folder to {@code base/version}: first under a temporary name, then renamed. */
  static void publish(Path source, Path base, long version) {
    Path staging = base.resolve(".staging-" + version);
    copyTree(source, staging);
    move(staging, base.resolve(Long.toString(version)));
  }

  static void copyTree(Path source, Path target) {
    try (Stream<Path> files = Files.walk(source)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        Path destination = target.resolve(source.relativize(file).toString());
        if (Files.isDirectory(file)) {
          Files.createDirectories(destination);
        } else {
          Files.copy(file, destination, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Replaces a file in one step, so a poller never reads half of it. */
  static void replace(Path file, String content) {
    try {
      Path staging = file.resolveSibling(file.getFileName() + ".staging");
      Files.writeString(staging, content);
      move(staging, file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A TFRecord file, as TF Serving's warmup files are written. */
  static void writeTfRecords(Path file, List<byte[]> records) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] record : records) {
      byte[] length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(record.length).array();
      out.writeBytes(length);
      out.writeBytes(littleEndian(TfRecords.maskedCrc(length, 0, 8)));
      out.writeBytes(record);
      out.writeBytes(littleEndian(TfRecords.maskedCrc(record, 0, record.length)));
    }
    try {
      Files.createDirectories(file.getParent());
      Files.write(file, out.toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] littleEndian(int value) {
    return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array();
  }

  private static void move(Path from, Path to) {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
