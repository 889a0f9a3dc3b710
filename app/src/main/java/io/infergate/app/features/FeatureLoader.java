package io.infergate.app.features;

import io.infergate.gateway.features.FeatureRecord;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Loads features into a feature store (Redis, or the cluster's Hazelcast map through a gateway),
 * pipelined in batches: a CSV ({@code key,f0,f1,...}, one hash per row) or JSON lines, one
 * {@link FeatureRecord} each.
 */
public final class FeatureLoader {

  private static final int BATCH = 1000;

  private final PrintStream progress;

  public FeatureLoader(PrintStream progress) {
    this.progress = progress;
  }

  /** What a load did. */
  public record Summary(long hashes, long vectors, long failed, long millis) {}

  public Summary load(FeatureSink sink, Path file) throws IOException {
    long total = countLines(file) - (isCsv(file) ? 1 : 0);
    long started = System.nanoTime();
    long hashes = 0;
    long vectors = 0;
    long failed = 0;
    try (BufferedReader lines = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String[] header = isCsv(file) ? lines.readLine().split(",") : null;
      List<CompletableFuture<?>> batch = new ArrayList<>(BATCH);
      long done = 0;
      for (String line = lines.readLine(); line != null; line = lines.readLine()) {
        if (line.isBlank()) {
          continue;
        }
        try {
          if (header != null) {
            batch.add(sink.putHash(csvKey(line), csvValues(header, line)).toCompletableFuture());
            hashes++;
          } else {
            FeatureRecord record = FeatureRecord.parse(line);
            if (record.vector() != null) {
              batch.add(sink.putVector(record.key(), record.vector()).toCompletableFuture());
              vectors++;
            } else {
              batch.add(sink.putHash(record.key(), record.hash()).toCompletableFuture());
              hashes++;
            }
          }
        } catch (RuntimeException e) {
          failed++;
        }
        if (batch.size() == BATCH) {
          sink.flush();
          failed += await(batch);
          done += BATCH;
          bar(done, total);
        }
      }
      done += batch.size();
      sink.flush();
      failed += await(batch);
      bar(done, total);
    }
    progress.println();
    return new Summary(hashes, vectors, failed, (System.nanoTime() - started) / 1_000_000);
  }

  private static long await(List<CompletableFuture<?>> batch) {
    long failed = 0;
    for (CompletableFuture<?> sent : batch) {
      try {
        sent.get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        failed++;
      }
    }
    batch.clear();
    return failed;
  }

  private void bar(long done, long total) {
    int width = 30;
    int filled = total <= 0 ? width : (int) Math.min(width, done * width / total);
    progress.printf("\r[%s%s] %3d%% %,d/%,d", "#".repeat(filled), " ".repeat(width - filled),
        total <= 0 ? 100 : done * 100 / total, done, Math.max(total, done));
    progress.flush();
  }

  private static String csvKey(String line) {
    return line.substring(0, line.indexOf(','));
  }

  private static Map<String, String> csvValues(String[] header, String line) {
    String[] cells = line.split(",");
    if (cells.length != header.length) {
      throw new IllegalArgumentException("Row has " + cells.length + " cells, header " + header.length);
    }
    Map<String, String> values = new LinkedHashMap<>();
    for (int i = 1; i < cells.length; i++) {
      Float.parseFloat(cells[i]);
      values.put(header[i].trim(), cells[i].trim());
    }
    return values;
  }

  private static boolean isCsv(Path file) {
    return file.getFileName().toString().endsWith(".csv");
  }

  private static long countLines(Path file) throws IOException {
    try (var lines = Files.lines(file)) {
      return lines.filter(line -> !line.isBlank()).count();
    }
  }
}
