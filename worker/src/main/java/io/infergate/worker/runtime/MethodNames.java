package io.infergate.worker.runtime;

/** The method names TF Serving writes into SignatureDefs, and its default signature key. */
public final class MethodNames {

  public static final String PREDICT = "tensorflow/serving/predict";
  public static final String CLASSIFY = "tensorflow/serving/classify";
  public static final String REGRESS = "tensorflow/serving/regress";
  public static final String DEFAULT_SIGNATURE = "serving_default";

  private MethodNames() {}
}
