package io.infergate.app.demo;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Operation;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TUint8;

/**
 * The CTR model as it is served: a graph of its own with the forward pass only, its weights in
 * variables set from a training run's values, so the SavedModel holds them once, in its
 * checkpoint (no optimizer state, no copy in the graph). {@link Precision#FLOAT32} keeps the
 * weights as trained; {@link Precision#INT8} stores both weight matrices as int8 with a scale per
 * column and dequantizes them in the graph, Cast then Mul, on every run; the biases stay float.
 */
final class CtrServingModel implements AutoCloseable {

  enum Precision { FLOAT32, INT8 }

  /** A trained network's parameters: hidden = relu(features·w1 + b1), logit = hidden·w2 + b2. */
  record Weights(int inputs, int units, float[] w1, float[] b1, float[] w2, float[] b2) {}

  private final Graph graph = new Graph();
  private final Session session = new Session(graph);
  private final Ops tf = Ops.create(graph);
  private final Placeholder<TFloat32> user;
  private final Placeholder<TFloat32> item;
  private final Operand<TFloat32> probability;
  /** What the weight matrices take in the SavedModel (with their scales, for int8). */
  private final long weightBytes;
  /** The assignments that set the variables, run once: their targets, and the values fed. */
  private final List<Operation> assignments = new ArrayList<>();
  private final List<Operand<?>> assignmentInputs = new ArrayList<>();
  private final List<Tensor> assignmentValues = new ArrayList<>();

  CtrServingModel(Weights weights, Precision precision) {
    try {
      int features = weights.inputs() / 2;
      user = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, features)));
      item = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, features)));
      Operand<TFloat32> w1;
      Operand<TFloat32> w2;
      if (precision == Precision.INT8) {
        Int8Columns q1 = Int8Columns.quantize(weights.w1(), weights.inputs(), weights.units());
        Int8Columns q2 = Int8Columns.quantize(weights.w2(), weights.units(), 1);
        w1 = dequantized("w1", q1);
        w2 = dequantized("w2", q2);
        weightBytes = q1.bytes() + q2.bytes();
      } else {
        w1 = floatVariable("w1", weights.w1(), Shape.of(weights.inputs(), weights.units()));
        w2 = floatVariable("w2", weights.w2(), Shape.of(weights.units(), 1));
        weightBytes = 4L * (weights.w1().length + weights.w2().length);
      }
      Operand<TFloat32> b1 = floatVariable("b1", weights.b1(), Shape.of(weights.units()));
      Operand<TFloat32> b2 = floatVariable("b2", weights.b2(), Shape.of(1));
      probability = tf.withName("probability").math.sigmoid(logits(tf, user, item, w1, b1, w2, b2));
      setVariables();
    } catch (RuntimeException e) {
      // Nothing native outlives a model that could not be built.
      assignmentValues.forEach(Tensor::close);
      close();
      throw e;
    }
  }

  /** The forward pass up to the logit, one per row: the trainer's graph and the served one share it. */
  static Operand<TFloat32> logits(Ops tf, Operand<TFloat32> user, Operand<TFloat32> item, Operand<TFloat32> w1,
                                  Operand<TFloat32> b1, Operand<TFloat32> w2, Operand<TFloat32> b2) {
    var features = tf.concat(List.of(user, item), tf.constant(1));
    var hidden = tf.nn.relu(tf.math.add(tf.linalg.matMul(features, w1), b1));
    return tf.reshape(tf.math.add(tf.linalg.matMul(hidden, w2), b2), tf.constant(new long[] {-1}));
  }

  /** Writes the SavedModel (signature serving_default, as the trainer documents) to versionDir. */
  void export(Path versionDir) throws IOException {
    SavedModelBundle.exporter(versionDir.toString())
        .withSession(session)
        .withSignature(Signature.builder().key(Signature.DEFAULT_KEY)
            .methodName("tensorflow/serving/predict")
            .input("user_features", user)
            .input("item_features", item)
            .output("probability", probability)
            .build())
        .export();
  }

  /** The model's click probabilities for a data set, through the same graph that is exported. */
  float[] predict(DemoCtrTrainer.Dataset data) {
    try (TFloat32 u = data.userTensor(); TFloat32 i = data.itemTensor();
         Result result = session.runner().feed(user, u).feed(item, i).fetch(probability).run()) {
      float[] values = new float[data.rows];
      ((TFloat32) result.get(0)).asRawTensor().data().asFloats().read(values);
      return values;
    }
  }

  long weightBytes() {
    return weightBytes;
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }

  private Operand<TFloat32> floatVariable(String name, float[] values, Shape shape) {
    Variable<TFloat32> variable = tf.withName(name).variable(shape, TFloat32.class);
    Placeholder<TFloat32> value = tf.placeholder(TFloat32.class, Placeholder.shape(shape));
    assign(tf.assign(variable, value).op(), value, TFloat32.tensorOf(shape, DataBuffers.of(values, true, false)));
    return variable;
  }

  /**
   * Int8 weights, read as float. TF Java has no Java type for DT_INT8, and its saver none for an
   * int8 variable, so the variable holds the int8 values' bytes as uint8; the graph bitcasts them
   * back to int8 (no copy) before the Cast to float and the Mul by the column scales.
   */
  private Operand<TFloat32> dequantized(String name, Int8Columns weights) {
    Shape shape = Shape.of(weights.rows(), weights.cols());
    Variable<TUint8> variable = tf.withName(name).variable(shape, TUint8.class);
    Placeholder<TUint8> bytes = tf.placeholder(TUint8.class, Placeholder.shape(shape));
    assign(tf.assign(variable, bytes).op(), bytes, TUint8.tensorOf(shape, DataBuffers.of(weights.values(), true, false)));
    GraphOperation asInt8 = graph.opBuilder("Bitcast", name + "_int8", tf.scope())
        .addInput(variable.asOutput()).setAttr("type", DataType.DT_INT8).build();
    GraphOperation asFloat = graph.opBuilder("Cast", name + "_dequantize", tf.scope())
        .addInput(asInt8.output(0)).setAttr("DstT", DataType.DT_FLOAT).build();
    return tf.math.mul(asFloat.<TFloat32>output(0), tf.constant(weights.scales()));
  }

  private void assign(Operation assignment, Operand<?> input, Tensor value) {
    assignments.add(assignment);
    assignmentInputs.add(input);
    assignmentValues.add(value);
  }

  private void setVariables() {
    try {
      Session.Runner runner = session.runner();
      for (int i = 0; i < assignments.size(); i++) {
        runner.feed(assignmentInputs.get(i), assignmentValues.get(i)).addTarget(assignments.get(i));
      }
      runner.run().close();
    } finally {
      assignmentValues.forEach(Tensor::close);
      assignmentValues.clear();
    }
  }
}
