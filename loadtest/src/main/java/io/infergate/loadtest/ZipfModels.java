package io.infergate.loadtest;

import java.util.Arrays;
import java.util.Random;

/**
 * Picks one of {@code count} models by a Zipf law with exponent {@code exponent}: model 0 most
 * often, model k with weight 1 / (k + 1)^exponent. A fixed seed, so rounds see the same sequence.
 */
final class ZipfModels {

  private final double[] cumulative;
  private final Random random = new Random(42);

  ZipfModels(int count, double exponent) {
    cumulative = new double[count];
    double sum = 0;
    for (int k = 0; k < count; k++) {
      sum += 1 / Math.pow(k + 1, exponent);
      cumulative[k] = sum;
    }
    for (int k = 0; k < count; k++) {
      cumulative[k] /= sum;
    }
  }

  /** "m" and the model's number: the name the benchmark gives the model. */
  String next() {
    int index = Arrays.binarySearch(cumulative, random.nextDouble());
    return "m" + (index >= 0 ? index : -index - 1);
  }
}
