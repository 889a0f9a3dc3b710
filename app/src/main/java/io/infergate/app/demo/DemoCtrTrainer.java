package io.infergate.app.demo;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Gradients;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * Trains a small click-through-rate model with TF Java on synthetic data and exports it as
 * SavedModels: user and item feature vectors in, a click probability out. Version 1 is
 * exported after the first epoch, version 2 when training ends, so the two versions really
 * differ in quality; version 3 (unless turned off) is version 2 with int8 weights, a quarter of
 * the bytes, dequantized in the graph (see {@link CtrServingModel}). Each version's graph has
 * the forward pass only, and the trainer reports each one's test AUC as exported.
 *
 * <p>Signature {@code serving_default}: {@code user_features} and {@code item_features}
 * (float [-1, 8]) → {@code probability} (float [-1]).
 */
public final class DemoCtrTrainer {

  public static final String MODEL_NAME = "ctr";
  /** The version trained to the end, with float weights. */
  public static final long FLOAT_VERSION = 2;
  /** {@link #FLOAT_VERSION} with int8 weights. */
  public static final long INT8_VERSION = 3;
  public static final int FEATURES = 8;
  /** The hidden layer's width by default: enough for the synthetic data. */
  public static final int DEFAULT_HIDDEN_UNITS = 32;
  private static final int TRAIN_ROWS = 32_768;
  private static final int TEST_ROWS = 8_192;
  private static final int BATCH = 512;

  private final long seed;
  private final int epochs;
  private final int hiddenUnits;
  private final boolean int8Version;
  private final PrintStream out;

  public DemoCtrTrainer(long seed, int epochs, PrintStream out) {
    this(seed, epochs, DEFAULT_HIDDEN_UNITS, true, out);
  }

  /**
   * @param hiddenUnits the hidden layer's width; wider costs more per row (a heavier model to load-test with)
   * @param int8Version whether to export {@link #INT8_VERSION} too
   */
  public DemoCtrTrainer(long seed, int epochs, int hiddenUnits, boolean int8Version, PrintStream out) {
    if (epochs < 2) {
      throw new IllegalArgumentException("Training needs at least 2 epochs to export two versions");
    }
    if (hiddenUnits < 1) {
      throw new IllegalArgumentException("The hidden layer needs at least one unit");
    }
    this.seed = seed;
    this.epochs = epochs;
    this.hiddenUnits = hiddenUnits;
    this.int8Version = int8Version;
    this.out = out;
  }

  /** Trains and writes {@code <outDir>/ctr/1}, {@code 2} and {@code 3}; returns the model's base path. */
  public Path train(Path outDir) throws IOException {
    Path basePath = outDir.resolve(MODEL_NAME);
    Files.createDirectories(basePath);
    Dataset train = Dataset.synthetic(TRAIN_ROWS, seed, seed + 1);
    Dataset test = Dataset.synthetic(TEST_ROWS, seed, seed + 2);
    out.printf("Training CTR model on %d synthetic impressions (%.1f%% clicks), testing on %d%n",
        TRAIN_ROWS, 100 * train.clickRate(), TEST_ROWS);

    try (Graph graph = new Graph(); Session session = new Session(graph)) {
      Network net = new Network(Ops.create(graph), new Random(seed), hiddenUnits);
      session.initialize();
      int steps = TRAIN_ROWS / BATCH;
      for (int epoch = 1, step = 0; epoch <= epochs; epoch++) {
        double lossSum = 0;
        for (int b = 0; b < steps; b++) {
          step++;
          lossSum += net.trainStep(session, train.slice(b * BATCH, BATCH), step);
        }
        double auc = Metrics.auc(test.score(batch -> net.predict(session, batch)), test.labels);
        out.printf("epoch %d/%d  train loss %.4f  test AUC %.4f%n", epoch, epochs, lossSum / steps, auc);
        if (epoch == 1) {
          export(net.weights(session), CtrServingModel.Precision.FLOAT32, basePath.resolve("1"), test);
        }
      }
      CtrServingModel.Weights trained = net.weights(session);
      float[] scores = test.score(batch -> net.predict(session, batch));
      out.printf("Final: test log loss %.4f, test AUC %.4f%n", Metrics.logLoss(scores, test.labels),
          Metrics.auc(scores, test.labels));
      export(trained, CtrServingModel.Precision.FLOAT32, basePath.resolve(Long.toString(FLOAT_VERSION)), test);
      if (int8Version) {
        export(trained, CtrServingModel.Precision.INT8, basePath.resolve(Long.toString(INT8_VERSION)), test);
      }
    }
    out.printf("Exported SavedModels to %s (versions 1 and 2%s)%n", basePath, int8Version ? ", 3 with int8 weights" : "");
    return basePath;
  }

  private void export(CtrServingModel.Weights weights, CtrServingModel.Precision precision, Path versionDir, Dataset test)
      throws IOException {
    try (CtrServingModel model = new CtrServingModel(weights, precision)) {
      model.export(versionDir);
      out.printf("exported %s: %s weights (%,d bytes), test AUC %.4f as exported%n", versionDir,
          precision == CtrServingModel.Precision.INT8 ? "int8" : "float32", model.weightBytes(),
          Metrics.auc(test.score(model::predict), test.labels));
    }
  }

  /** The graph: a one-hidden-layer MLP over the concatenated features, trained with Adam. */
  private static final class Network {
    private static final float LEARNING_RATE = 0.01f;
    private static final float BETA1 = 0.9f;
    private static final float BETA2 = 0.999f;

    final Placeholder<TFloat32> user;
    final Placeholder<TFloat32> item;
    final Placeholder<TFloat32> label;
    final Placeholder<TFloat32> beta1Power;
    final Placeholder<TFloat32> beta2Power;
    final Operand<TFloat32> probability;
    final Operand<TFloat32> loss;
    final List<Operand<?>> updates = new ArrayList<>();
    final List<Variable<TFloat32>> params;
    final int units;

    Network(Ops tf, Random random, int units) {
      this.units = units;
      user = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, FEATURES)));
      item = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, FEATURES)));
      label = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
      beta1Power = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      beta2Power = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));

      Variable<TFloat32> w1 = weight(tf, random, 2 * FEATURES, units);
      Variable<TFloat32> b1 = tf.variable(tf.zeros(tf.constant(new long[] {units}), TFloat32.class));
      Variable<TFloat32> w2 = weight(tf, random, units, 1);
      Variable<TFloat32> b2 = tf.variable(tf.zeros(tf.constant(new long[] {1}), TFloat32.class));

      Operand<TFloat32> logits = CtrServingModel.logits(tf, user, item, w1, b1, w2, b2);
      probability = tf.withName("probability").math.sigmoid(logits);

      // Numerically stable sigmoid cross-entropy: max(z,0) - z*y + log(1 + exp(-|z|)).
      var perExample = tf.math.add(
          tf.math.sub(tf.nn.relu(logits), tf.math.mul(logits, label)),
          tf.math.log1p(tf.math.exp(tf.math.neg(tf.math.abs(logits)))));
      loss = tf.math.mean(perExample, tf.constant(0));

      params = List.of(w1, b1, w2, b2);
      Gradients gradients = tf.gradients(loss, params);
      for (int i = 0; i < params.size(); i++) {
        Variable<TFloat32> param = params.get(i);
        Variable<TFloat32> m = tf.variable(tf.zerosLike(param));
        Variable<TFloat32> v = tf.variable(tf.zerosLike(param));
        Operand<TFloat32> gradient = gradients.<TFloat32>dy(i);
        updates.add(tf.train.applyAdam(param, m, v, beta1Power, beta2Power,
            tf.constant(LEARNING_RATE), tf.constant(BETA1), tf.constant(BETA2), tf.constant(1e-7f), gradient));
      }
    }

    /** The parameters' current values. */
    CtrServingModel.Weights weights(Session session) {
      Session.Runner runner = session.runner();
      params.forEach(runner::fetch);
      try (Result result = runner.run()) {
        float[][] values = new float[params.size()][];
        for (int i = 0; i < values.length; i++) {
          TFloat32 tensor = (TFloat32) result.get(i);
          values[i] = new float[(int) tensor.size()];
          tensor.asRawTensor().data().asFloats().read(values[i]);
        }
        return new CtrServingModel.Weights(2 * FEATURES, units, values[0], values[1], values[2], values[3]);
      }
    }

    private static Variable<TFloat32> weight(Ops tf, Random random, int rows, int cols) {
      float[] values = new float[rows * cols];
      double scale = Math.sqrt(2.0 / rows);
      for (int i = 0; i < values.length; i++) {
        values[i] = (float) (random.nextGaussian() * scale);
      }
      return tf.variable(tf.constant(Shape.of(rows, cols), DataBuffers.of(values, true, false)));
    }

    double trainStep(Session session, Dataset batch, int step) {
      try (TFloat32 u = batch.userTensor(); TFloat32 i = batch.itemTensor(); TFloat32 y = batch.labelTensor();
           TFloat32 p1 = TFloat32.scalarOf((float) Math.pow(BETA1, step));
           TFloat32 p2 = TFloat32.scalarOf((float) Math.pow(BETA2, step))) {
        Session.Runner runner = session.runner()
            .feed(user, u).feed(item, i).feed(label, y).feed(beta1Power, p1).feed(beta2Power, p2)
            .fetch(loss);
        updates.forEach(update -> runner.addTarget(update.op()));
        try (Result result = runner.run()) {
          return ((TFloat32) result.get(0)).getFloat();
        }
      }
    }

    float[] predict(Session session, Dataset data) {
      try (TFloat32 u = data.userTensor(); TFloat32 i = data.itemTensor();
           Result result = session.runner().feed(user, u).feed(item, i).fetch(probability).run()) {
        TFloat32 p = (TFloat32) result.get(0);
        float[] values = new float[data.rows];
        p.asRawTensor().data().asFloats().read(values);
        return values;
      }
    }
  }

  /**
   * Synthetic impressions: a user's and an item's features drive a hidden affinity (a bilinear
   * user·W·item term plus per-side biases); the click is drawn from its sigmoid. The affinity's
   * parameters come from {@code worldSeed}, so train and test share one world.
   */
  static final class Dataset {
    final int rows;
    final float[] users;
    final float[] items;
    final float[] labels;

    private Dataset(int rows, float[] users, float[] items, float[] labels) {
      this.rows = rows;
      this.users = users;
      this.items = items;
      this.labels = labels;
    }

    static Dataset synthetic(int rows, long worldSeed, long sampleSeed) {
      Random world = new Random(worldSeed);
      double[][] affinity = new double[FEATURES][FEATURES];
      double[] userBias = new double[FEATURES];
      double[] itemBias = new double[FEATURES];
      for (int a = 0; a < FEATURES; a++) {
        userBias[a] = world.nextGaussian() * 0.5;
        itemBias[a] = world.nextGaussian() * 0.5;
        for (int b = 0; b < FEATURES; b++) {
          affinity[a][b] = world.nextGaussian() * 0.5;
        }
      }
      Random sample = new Random(sampleSeed);
      float[] users = new float[rows * FEATURES];
      float[] items = new float[rows * FEATURES];
      float[] labels = new float[rows];
      for (int r = 0; r < rows; r++) {
        double logit = -1.5;
        for (int a = 0; a < FEATURES; a++) {
          users[r * FEATURES + a] = (float) sample.nextGaussian();
          items[r * FEATURES + a] = (float) sample.nextGaussian();
        }
        for (int a = 0; a < FEATURES; a++) {
          logit += userBias[a] * users[r * FEATURES + a] + itemBias[a] * items[r * FEATURES + a];
          for (int b = 0; b < FEATURES; b++) {
            logit += users[r * FEATURES + a] * affinity[a][b] * items[r * FEATURES + b];
          }
        }
        labels[r] = sample.nextDouble() < 1 / (1 + Math.exp(-logit)) ? 1f : 0f;
      }
      return new Dataset(rows, users, items, labels);
    }

    /** Scores the rows a training batch at a time: a wide hidden layer for every row at once would not fit in memory. */
    float[] score(Function<Dataset, float[]> scorer) {
      float[] scores = new float[rows];
      for (int from = 0; from < rows; from += BATCH) {
        int count = Math.min(BATCH, rows - from);
        System.arraycopy(scorer.apply(slice(from, count)), 0, scores, from, count);
      }
      return scores;
    }

    Dataset slice(int from, int count) {
      return new Dataset(count,
          Arrays.copyOfRange(users, from * FEATURES, (from + count) * FEATURES),
          Arrays.copyOfRange(items, from * FEATURES, (from + count) * FEATURES),
          Arrays.copyOfRange(labels, from, from + count));
    }

    double clickRate() {
      double clicks = 0;
      for (float label : labels) {
        clicks += label;
      }
      return clicks / rows;
    }

    TFloat32 userTensor() {
      return TFloat32.tensorOf(Shape.of(rows, FEATURES), DataBuffers.of(users, true, false));
    }

    TFloat32 itemTensor() {
      return TFloat32.tensorOf(Shape.of(rows, FEATURES), DataBuffers.of(items, true, false));
    }

    TFloat32 labelTensor() {
      return TFloat32.tensorOf(Shape.of(rows), DataBuffers.of(labels, true, false));
    }
  }
}
