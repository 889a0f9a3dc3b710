package io.infergate.app.demo;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.StringJoiner;

/**
 * A feature set for the demo CTR model, so the recommender path runs end to end: users as Redis
 * hashes ({@code features/users.csv}, fields f0..f7), items as packed vectors
 * ({@code features/items.jsonl}), and the gateway's feature configs that map them to the model's
 * inputs, one for Redis and one for the Hazelcast map.
 */
public final class DemoFeatures {

  private DemoFeatures() {}

  /** The gateway's feature config for the demo features in Redis. */
  public static final String REDIS_CONFIG = "features.config";
  /** ... and for the same features in the cluster's Hazelcast map. */
  public static final String HAZELCAST_CONFIG = "features-hazelcast.config";
  /** The demo feature files, users (hashes) then items (vectors), under the output directory. */
  public static final List<String> FILES = List.of("features/users.csv", "features/items.jsonl");

  /** Writes {@code users} users and {@code items} items under {@code outDir}; returns the Redis feature config. */
  public static Path write(Path outDir, int users, int items, long seed) throws IOException {
    Random random = new Random(seed);
    Path dir = Files.createDirectories(outDir.resolve("features"));
    try (PrintWriter csv = new PrintWriter(Files.newBufferedWriter(dir.resolve("users.csv"), StandardCharsets.UTF_8))) {
      StringJoiner header = new StringJoiner(",", "key,", "");
      for (int f = 0; f < DemoCtrTrainer.FEATURES; f++) {
        header.add("f" + f);
      }
      csv.println(header);
      for (int u = 1; u <= users; u++) {
        StringJoiner row = new StringJoiner(",", "user:u" + u + ",", "");
        for (int f = 0; f < DemoCtrTrainer.FEATURES; f++) {
          row.add(String.format(Locale.ROOT, "%.4f", random.nextGaussian()));
        }
        csv.println(row);
      }
    }
    try (PrintWriter jsonl = new PrintWriter(Files.newBufferedWriter(dir.resolve("items.jsonl"), StandardCharsets.UTF_8))) {
      for (int i = 1; i <= items; i++) {
        StringJoiner vector = new StringJoiner(", ", "[", "]");
        for (int f = 0; f < DemoCtrTrainer.FEATURES; f++) {
          vector.add(String.format(Locale.ROOT, "%.4f", random.nextGaussian()));
        }
        jsonl.println("{\"key\": \"item:" + i + "\", \"vector\": " + vector + "}");
      }
    }
    StringJoiner fields = new StringJoiner(" ");
    StringJoiner zeros = new StringJoiner(" ");
    for (int f = 0; f < DemoCtrTrainer.FEATURES; f++) {
      fields.add("hash_fields: \"f" + f + "\"");
      zeros.add("default_value: 0");
    }
    String models = """
        model {
          model: "ctr"
          input { input: "user_features" key: "user:{user_id}" size: %1$d %2$s }
          input { input: "item_features" key: "item:{item_id}" size: %1$d %3$s }
        }
        """.formatted(DemoCtrTrainer.FEATURES, fields, zeros);
    Files.writeString(outDir.resolve(HAZELCAST_CONFIG), """
        # Online features of the demo CTR model from the cluster's Hazelcast map (an embedded member
        # in a single-process server): see the README's "Online features".
        hazelcast { timeout_ms: 50
                    near_cache { max_entries: 100000 ttl_ms: 10000 tracking: true } }
        """ + models);
    Path config = outDir.resolve(REDIS_CONFIG);
    Files.writeString(config, """
        # Online features of the demo CTR model from Redis: see the README's "Online features".
        redis { uri: "redis://127.0.0.1:6379" timeout_ms: 50
                near_cache { max_entries: 100000 ttl_ms: 10000 tracking: true } }
        """ + models);
    return config;
  }
}
