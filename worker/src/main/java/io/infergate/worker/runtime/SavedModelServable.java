package io.infergate.worker.runtime;

import io.infergate.common.ServableId;
import io.infergate.common.Signatures;
import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.infergate.proto.serving.ClassificationRequest;
import io.infergate.proto.serving.ClassificationResponse;
import io.infergate.proto.serving.Input;
import io.infergate.proto.serving.ModelSpec;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.proto.serving.PredictResponse;
import io.infergate.proto.serving.RegressionRequest;
import io.infergate.proto.serving.RegressionResponse;
import io.infergate.proto.serving.SignatureDefMap;
import com.google.protobuf.Int64Value;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorProto;

/**
 * One loaded SavedModel version. Every method that runs TensorFlow blocks, so callers invoke
 * them on an inference thread; native tensors never leave the method that made them.
 */
public final class SavedModelServable implements AutoCloseable {

  private final ServableId id;
  private final SavedModelBundle bundle;
  private final SignatureDefMap signatures;

  private SavedModelServable(ServableId id, SavedModelBundle bundle) {
    this.id = id;
    this.bundle = bundle;
    this.signatures = SignatureDefMap.newBuilder()
        .putAllSignatureDef(bundle.metaGraphDef().getSignatureDefMap()).build();
  }

  /** Loads a SavedModel directory; blocks for as long as TensorFlow takes. */
  public static SavedModelServable load(ServableId id, Path directory, SessionOptions options) {
    try {
      SavedModelBundle bundle = SavedModelBundle.loader(directory.toString())
          .withTags(options.tags().toArray(String[]::new))
          .withConfigProto(options.config())
          .load();
      return new SavedModelServable(id, bundle);
    } catch (RuntimeException e) {
      throw new ServingException(StatusCode.FAILED_PRECONDITION,
          "Failed to load SavedModel " + directory + ": " + e.getMessage());
    }
  }

  public ServableId id() {
    return id;
  }

  public SignatureDefMap signatures() {
    return signatures;
  }

  public PredictResponse predict(PredictRequest request) {
    String name = signatureName(request.getModelSpec());
    SignatureDef signature = signature(name);
    SignatureValidator.validateInputs(name, signature, request.getInputsMap());
    Collection<String> outputs = request.getOutputFilterCount() == 0
        ? signature.getOutputsMap().keySet()
        : checkedOutputFilter(name, signature, request.getOutputFilterList());
    return PredictResponse.newBuilder()
        .putAllOutputs(run(signature, request.getInputsMap(), outputs))
        .setModelSpec(servedSpec(name))
        .build();
  }

  public ClassificationResponse classify(ClassificationRequest request) {
    String name = signatureName(request.getModelSpec());
    return ClassificationResponse.newBuilder()
        .setResult(runExamples(name, MethodNames.CLASSIFY, request.getInput(), ExampleResults::classification))
        .setModelSpec(servedSpec(name))
        .build();
  }

  public RegressionResponse regress(RegressionRequest request) {
    String name = signatureName(request.getModelSpec());
    return RegressionResponse.newBuilder()
        .setResult(runExamples(name, MethodNames.REGRESS, request.getInput(), ExampleResults::regression))
        .setModelSpec(servedSpec(name))
        .build();
  }

  /** Runs a classify or regress signature over serialized tf.Examples and reads its outputs. */
  private <R> R runExamples(String name, String method, Input input,
                            BiFunction<Map<String, TensorProto>, Integer, R> toResult) {
    SignatureDef signature = methodSignature(name, method);
    ExampleBatch batch = ExampleBatch.of(input);
    Map<String, TensorProto> outputs = run(signature,
        Map.of(ExampleBatch.inputAlias(name, signature), batch.serialized()),
        signature.getOutputsMap().keySet());
    return toResult.apply(outputs, batch.size());
  }

  /** Frees the model's native memory. */
  @Override
  public void close() {
    bundle.close();
  }

  private Map<String, TensorProto> run(SignatureDef signature, Map<String, TensorProto> inputs,
                                       Collection<String> outputAliases) {
    List<Tensor> fed = new ArrayList<>(inputs.size());
    try {
      Session.Runner runner = bundle.session().runner();
      for (Map.Entry<String, TensorProto> input : inputs.entrySet()) {
        Tensor tensor = TensorProtoConverter.toTensor(input.getValue());
        fed.add(tensor);
        runner.feed(signature.getInputsMap().get(input.getKey()).getName(), tensor);
      }
      List<String> aliases = List.copyOf(outputAliases);
      for (String alias : aliases) {
        runner.fetch(signature.getOutputsMap().get(alias).getName());
      }
      try (Result result = runner.run()) {
        Map<String, TensorProto> outputs = new LinkedHashMap<>();
        for (int i = 0; i < aliases.size(); i++) {
          outputs.put(aliases.get(i), TensorProtoConverter.toProto(result.get(i)));
        }
        return outputs;
      }
    } catch (RuntimeException e) {
      throw TensorFlowErrors.toStatus(e);
    } finally {
      fed.forEach(Tensor::close);
    }
  }

  private static String signatureName(ModelSpec spec) {
    return Signatures.keyOrDefault(spec.getSignatureName());
  }

  private SignatureDef signature(String name) {
    return Signatures.find(signatures, name);
  }

  private SignatureDef methodSignature(String name, String method) {
    SignatureDef signature = signature(name);
    if (!method.equals(signature.getMethodName())) {
      throw ServingException.invalidArgument("Expected " + method + " signature method_name, but "
          + "signature \"" + name + "\" has method_name \"" + signature.getMethodName() + "\"");
    }
    return signature;
  }

  private static Collection<String> checkedOutputFilter(String name, SignatureDef signature,
                                                        List<String> filter) {
    for (String alias : filter) {
      TensorInfo info = signature.getOutputsMap().get(alias);
      if (info == null) {
        throw ServingException.invalidArgument("output tensor alias not found in signature: "
            + alias + ". Outputs of \"" + name + "\" are " + signature.getOutputsMap().keySet());
      }
    }
    return new java.util.LinkedHashSet<>(filter);
  }

  private ModelSpec servedSpec(String signatureName) {
    return ModelSpec.newBuilder()
        .setName(id.name())
        .setVersion(Int64Value.of(id.version()))
        .setSignatureName(signatureName)
        .build();
  }
}
