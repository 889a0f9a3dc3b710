package io.infergate.worker.runtime;

import com.google.protobuf.ByteString;
import io.infergate.common.status.ServingException;
import io.infergate.proto.serving.Input;
import java.util.List;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.Example;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * The tf.Examples of a classify or regress request as one DT_STRING tensor of serialized
 * examples. Context features are merged into every example the way TF Serving does it: the
 * serialized context followed by the serialized example parses as their merge.
 */
record ExampleBatch(TensorProto serialized, int size) {

  static ExampleBatch of(Input input) {
    List<Example> examples;
    ByteString context = ByteString.EMPTY;
    switch (input.getKindCase()) {
      case EXAMPLE_LIST -> examples = input.getExampleList().getExamplesList();
      case EXAMPLE_LIST_WITH_CONTEXT -> {
        examples = input.getExampleListWithContext().getExamplesList();
        context = input.getExampleListWithContext().getContext().toByteString();
      }
      default -> throw ServingException.invalidArgument("Input is empty: it holds no examples");
    }
    if (examples.isEmpty()) {
      throw ServingException.invalidArgument("Input is empty: it holds no examples");
    }
    TensorProto.Builder tensor = TensorProto.newBuilder()
        .setDtype(DataType.DT_STRING)
        .setTensorShape(TensorShapeProto.newBuilder().addDim(
            TensorShapeProto.Dim.newBuilder().setSize(examples.size())));
    for (Example example : examples) {
      tensor.addStringVal(context.concat(example.toByteString()));
    }
    return new ExampleBatch(tensor.build(), examples.size());
  }

  /** The one input of a classify or regress signature, which takes the serialized examples. */
  static String inputAlias(String name, SignatureDef signature) {
    if (signature.getInputsCount() != 1) {
      throw ServingException.invalidArgument("Signature \"" + name
          + "\" must have exactly one input of serialized tf.Examples, but has "
          + signature.getInputsMap().keySet());
    }
    return signature.getInputsMap().keySet().iterator().next();
  }
}
