package io.infergate.worker.runtime;

import io.infergate.common.status.ServingException;
import io.infergate.proto.serving.ClassificationResult;
import io.infergate.proto.serving.Classifications;
import io.infergate.proto.serving.RegressionResult;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Map;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/** Turns the output tensors of classify and regress signatures into their result messages. */
final class ExampleResults {

  static final String CLASSES = "classes";
  static final String SCORES = "scores";
  static final String OUTPUTS = "outputs";

  private ExampleResults() {}

  static ClassificationResult classification(Map<String, TensorProto> outputs, int examples) {
    TensorProto classes = outputs.get(CLASSES);
    TensorProto scores = outputs.get(SCORES);
    if (classes == null && scores == null) {
      throw ServingException.invalidArgument("A classify signature must output \"classes\" or \"scores\"");
    }
    if (classes != null && classes.getDtype() != DataType.DT_STRING) {
      throw ServingException.invalidArgument("Expected \"classes\" to be DT_STRING, got " + classes.getDtype());
    }
    int perExample = classesPerExample(classes != null ? classes : scores, examples);
    float[] scoreValues = scores == null ? null : floats(scores, SCORES);
    if (classes != null && scores != null && scoreValues.length != classes.getStringValCount()) {
      throw ServingException.invalidArgument("\"classes\" and \"scores\" have different shapes");
    }
    ClassificationResult.Builder result = ClassificationResult.newBuilder();
    for (int e = 0; e < examples; e++) {
      Classifications.Builder one = result.addClassificationsBuilder();
      for (int c = 0; c < perExample; c++) {
        int at = e * perExample + c;
        io.infergate.proto.serving.Class.Builder item = one.addClassesBuilder();
        if (classes != null) {
          item.setLabel(classes.getStringVal(at).toStringUtf8());
        }
        if (scoreValues != null) {
          item.setScore(scoreValues[at]);
        }
      }
    }
    return result.build();
  }

  static RegressionResult regression(Map<String, TensorProto> outputs, int examples) {
    TensorProto tensor = outputs.size() == 1 ? outputs.values().iterator().next() : outputs.get(OUTPUTS);
    if (tensor == null) {
      throw ServingException.invalidArgument("A regress signature must output \"outputs\"");
    }
    float[] values = floats(tensor, OUTPUTS);
    if (values.length != examples) {
      throw ServingException.invalidArgument("Expected one regression output per example ("
          + examples + "), got " + values.length);
    }
    RegressionResult.Builder result = RegressionResult.newBuilder();
    for (float value : values) {
      result.addRegressionsBuilder().setValue(value);
    }
    return result.build();
  }

  private static int classesPerExample(TensorProto tensor, int examples) {
    long count = 1;
    for (var dim : tensor.getTensorShape().getDimList()) {
      count *= dim.getSize();
    }
    if (tensor.getTensorShape().getDimCount() == 0 || tensor.getTensorShape().getDim(0).getSize() != examples
        || tensor.getTensorShape().getDimCount() > 2) {
      throw ServingException.invalidArgument("Expected classify output of shape [" + examples
          + ", classes], got " + tensor.getTensorShape().getDimList().stream().map(d -> d.getSize()).toList());
    }
    return (int) (count / examples);
  }

  private static float[] floats(TensorProto tensor, String name) {
    if (tensor.getDtype() != DataType.DT_FLOAT) {
      throw ServingException.invalidArgument("Expected \"" + name + "\" to be DT_FLOAT, got " + tensor.getDtype());
    }
    FloatBuffer buffer = ByteBuffer.wrap(tensor.getTensorContent().toByteArray())
        .order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    float[] values = new float[buffer.remaining()];
    buffer.get(values);
    return values;
  }
}
