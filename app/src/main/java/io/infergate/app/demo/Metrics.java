package io.infergate.app.demo;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/** Evaluation metrics for a binary classifier's probabilities. */
final class Metrics {

  private Metrics() {}

  /** Area under the ROC curve, by the rank-sum (Mann-Whitney) formula with tied ranks averaged. */
  static double auc(float[] scores, float[] labels) {
    Integer[] order = IntStream.range(0, scores.length).boxed().toArray(Integer[]::new);
    Arrays.sort(order, Comparator.comparingDouble(i -> scores[i]));
    double positiveRankSum = 0;
    long positives = 0;
    for (int start = 0; start < order.length; ) {
      int end = start;
      while (end + 1 < order.length && scores[order[end + 1]] == scores[order[start]]) {
        end++;
      }
      double rank = (start + end) / 2.0 + 1;
      for (int k = start; k <= end; k++) {
        if (labels[order[k]] > 0.5f) {
          positiveRankSum += rank;
          positives++;
        }
      }
      start = end + 1;
    }
    long negatives = scores.length - positives;
    if (positives == 0 || negatives == 0) {
      return Double.NaN;
    }
    return (positiveRankSum - positives * (positives + 1) / 2.0) / ((double) positives * negatives);
  }

  static double logLoss(float[] probabilities, float[] labels) {
    double sum = 0;
    for (int i = 0; i < probabilities.length; i++) {
      double p = Math.min(Math.max(probabilities[i], 1e-7), 1 - 1e-7);
      sum -= labels[i] > 0.5f ? Math.log(p) : Math.log(1 - p);
    }
    return sum / probabilities.length;
  }
}
