package io.infergate.worker.runtime;

/** The method names TF Serving writes into SignatureDefs. */
public final class MethodNames {

  public static final String CLASSIFY = "tensorflow/serving/classify";
  public static final String REGRESS = "tensorflow/serving/regress";

  private MethodNames() {}
}
