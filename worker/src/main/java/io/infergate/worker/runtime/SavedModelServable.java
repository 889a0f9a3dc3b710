package io.infergate.worker.runtime;

import io.infergate.common.ServableId;
import io.infergate.common.Signatures;
import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.infergate.proto.serving.ClassificationRequest;
import io.infergate.proto.serving.ClassificationResponse;
import io.infergate.proto.serving.ModelSpec;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.proto.serving.PredictResponse;
import io.infergate.proto.serving.RegressionRequest;
import io.infergate.proto.serving.RegressionResponse;
import io.infergate.proto.serving.SignatureDefMap;
import com.google.protobuf.Int64Value;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Set;
import java.util.TreeSet;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.RunMetadata;
import org.tensorflow.proto.RunOptions;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorProto;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One loaded SavedModel version. Every method that runs TensorFlow blocks, so callers invoke
 * them on an inference thread; native tensors never leave the method that made them.
 */
public final class SavedModelServable implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(SavedModelServable.class);

  private final ServableId id;
  private final SavedModelBundle bundle;
  private final SignatureDefMap signatures;
  private final Map<String, String> invalidSignatures;
  /** Built once per signature name, not per request. */
  private final Map<String, List<String>> allOutputs = new ConcurrentHashMap<>();
  private final Map<String, ModelSpec> servedSpecs = new ConcurrentHashMap<>();
  /** Set once after the load measured the model's runs; until then nothing is refused. */
  private volatile RunMemoryGuard memoryGuard = RunMemoryGuard.NONE;

  private SavedModelServable(ServableId id, SavedModelBundle bundle, Map<String, SignatureDef> signatures,
                             Map<String, String> invalidSignatures) {
    this.id = id;
    this.bundle = bundle;
    this.signatures = SignatureDefMap.newBuilder().putAllSignatureDef(signatures).build();
    this.invalidSignatures = Map.copyOf(invalidSignatures);
  }

  /**
   * Loads a SavedModel directory; blocks for as long as TensorFlow takes. Signatures that
   * disagree with the graph do not fail the load, as under TF Serving: the others serve, and
   * requests to them fail in TensorFlow.
   */
  public static SavedModelServable load(ServableId id, Path directory, SessionOptions options) {
    SavedModelBundle bundle;
    try {
      bundle = bundle(directory, options);
    } catch (RuntimeException e) {
      return loadWithoutBrokenSignatures(id, directory, options, e);
    }
    return new SavedModelServable(id, bundle, bundle.metaGraphDef().getSignatureDefMap(), Map.of());
  }

  private static SavedModelServable loadWithoutBrokenSignatures(ServableId id, Path directory, SessionOptions options,
                                                                RuntimeException failure) {
    MetaGraphDef metaGraph = SavedModelSignatures.metaGraph(directory, options.tags());
    Map<String, String> broken;
    try {
      broken = metaGraph == null ? Map.of() : SavedModelSignatures.broken(metaGraph);
    } catch (RuntimeException unreadableGraph) {
      broken = Map.of();
    }
    if (broken.isEmpty()) {
      throw loadFailure(directory, failure);
    }
    LOG.warn("SavedModel {} has signatures that do not match its graph; requests to them will fail: {}",
        directory, broken);
    try {
      Path loadable = SavedModelSignatures.withoutBroken(directory, metaGraph, broken);
      try {
        SavedModelBundle bundle = bundle(loadable, options);
        return new SavedModelServable(id, bundle, metaGraph.getSignatureDefMap(), broken);
      } finally {
        SavedModelSignatures.delete(loadable);
      }
    } catch (IOException e) {
      throw loadFailure(directory, new UncheckedIOException(e));
    } catch (RuntimeException e) {
      throw loadFailure(directory, e);
    }
  }

  private static SavedModelBundle bundle(Path directory, SessionOptions options) {
    return SavedModelBundle.loader(directory.toString())
        .withTags(options.tags().toArray(String[]::new))
        .withConfigProto(options.config())
        .load();
  }

  private static ServingException loadFailure(Path directory, RuntimeException e) {
    return new ServingException(StatusCode.FAILED_PRECONDITION, "Failed to load SavedModel " + directory + ": "
        + e.getMessage());
  }

  public ServableId id() {
    return id;
  }

  public SignatureDefMap signatures() {
    return signatures;
  }

  /** The signatures that do not match the graph, with what is wrong with each: requests to them fail. */
  public Map<String, String> invalidSignatures() {
    return invalidSignatures;
  }

  /**
   * Validates a PredictRequest, ClassificationRequest or RegressionRequest against its
   * signature and the run memory limit, and turns it into a call that can run alone or batched.
   * Cheap: no TF work.
   */
  public PreparedCall prepare(Object request) {
    PreparedCall call = prepareCall(request);
    memoryGuard.check(this, call.run());
    return call;
  }

  private PreparedCall prepareCall(Object request) {
    if (request instanceof PredictRequest predict) {
      return preparePredict(predict);
    }
    if (request instanceof ClassificationRequest classify) {
      String name = signatureName(classify.getModelSpec());
      ExampleBatch batch = ExampleBatch.of(classify.getInput());
      return new PreparedCall(exampleRun(name, MethodNames.CLASSIFY, batch), outputs ->
          ClassificationResponse.newBuilder()
              .setResult(ExampleResults.classification(outputs, batch.size()))
              .setModelSpec(servedSpec(name)).build());
    }
    if (request instanceof RegressionRequest regress) {
      String name = signatureName(regress.getModelSpec());
      ExampleBatch batch = ExampleBatch.of(regress.getInput());
      return new PreparedCall(exampleRun(name, MethodNames.REGRESS, batch), outputs ->
          RegressionResponse.newBuilder()
              .setResult(ExampleResults.regression(outputs, batch.size()))
              .setModelSpec(servedSpec(name)).build());
    }
    throw ServingException.invalidArgument("Unsupported request type " + request.getClass().getName());
  }

  /** Prepares and runs a request on the calling thread, unbatched. */
  public com.google.protobuf.Message call(Object request) {
    PreparedCall call = prepare(request);
    // prepare() checked the run memory limit already: the request runs as it is.
    return call.finish(execute(call.run(), null).outputs());
  }

  public PredictResponse predict(PredictRequest request) {
    return (PredictResponse) call(request);
  }

  public ClassificationResponse classify(ClassificationRequest request) {
    return (ClassificationResponse) call(request);
  }

  public RegressionResponse regress(RegressionRequest request) {
    return (RegressionResponse) call(request);
  }

  private PreparedCall preparePredict(PredictRequest request) {
    String name = signatureName(request.getModelSpec());
    SignatureDef signature = signature(name);
    SignatureValidator.validateInputs(name, signature, request.getInputsMap());
    List<String> outputs = request.getOutputFilterCount() == 0
        ? allOutputs.computeIfAbsent(name, n -> List.copyOf(signature.getOutputsMap().keySet()))
        : checkedOutputFilter(name, signature, request.getOutputFilterList());
    SignatureRun run = new SignatureRun(name, signature, request.getInputsMap(), outputs);
    return new PreparedCall(run, result -> PredictResponse.newBuilder()
        .putAllOutputs(result).setModelSpec(servedSpec(name)).build());
  }

  /** A classify or regress signature over the serialized tf.Examples. */
  private SignatureRun exampleRun(String name, String method, ExampleBatch batch) {
    SignatureDef signature = methodSignature(name, method);
    return new SignatureRun(name, signature,
        Map.of(ExampleBatch.inputAlias(name, signature), batch.serialized()),
        List.copyOf(signature.getOutputsMap().keySet()));
  }

  /** Frees the model's native memory. */
  @Override
  public void close() {
    bundle.close();
  }

  /**
   * Runs a signature call; blocks for as long as TensorFlow takes. A call past the run memory
   * limit (a batch padded past it, say) is refused before it starts.
   */
  public Map<String, TensorProto> run(SignatureRun call) {
    memoryGuard.check(this, call);
    return execute(call, null).outputs();
  }

  /** How many rows shaped as {@code call}'s one run may take under the run memory limit. */
  public long rowsPerRun(SignatureRun call) {
    return memoryGuard.rowsPerRun(call);
  }

  /** Limits what one run may take from now on, with the servable's measured runs. */
  void guardMemory(RunMemoryGuard guard) {
    memoryGuard = guard;
  }

  RunMemoryGuard memoryGuard() {
    return memoryGuard;
  }

  /**
   * Runs a call with full tracing and returns the devices its ops ran on (for example
   * /job:localhost/replica:0/task:0/device:GPU:0), so a load can log where the model runs.
   */
  public Set<String> devices(SignatureRun call) {
    Set<String> devices = new TreeSet<>();
    traced(call).getStepStats().getDevStatsList().forEach(stats -> devices.add(stats.getDevice()));
    return devices;
  }

  /** Runs a call with full tracing and returns the most memory its tensors held at once. */
  long peakBytes(SignatureRun call) {
    return RunMemory.peakBytes(traced(call));
  }

  private RunMetadata traced(SignatureRun call) {
    RunOptions trace = RunOptions.newBuilder().setTraceLevel(RunOptions.TraceLevel.FULL_TRACE).build();
    RunMetadata metadata = execute(call, trace).metadata();
    return metadata != null ? metadata : RunMetadata.getDefaultInstance();
  }

  private record Execution(Map<String, TensorProto> outputs, RunMetadata metadata) {}

  private Execution execute(SignatureRun call, RunOptions options) {
    SignatureDef signature = call.signature();
    Map<String, TensorProto> inputs = call.inputs();
    List<Tensor> fed = new ArrayList<>(inputs.size());
    try {
      Session.Runner runner = bundle.session().runner();
      for (Map.Entry<String, TensorProto> input : inputs.entrySet()) {
        Tensor tensor = TensorProtoConverter.toTensor(input.getKey(), input.getValue());
        fed.add(tensor);
        runner.feed(signature.getInputsMap().get(input.getKey()).getName(), tensor);
      }
      List<String> aliases = call.outputs();
      for (String alias : aliases) {
        runner.fetch(signature.getOutputsMap().get(alias).getName());
      }
      if (options != null) {
        runner.setOptions(options);
      }
      try (Result result = options != null ? runner.runAndFetchMetadata() : runner.run()) {
        Map<String, TensorProto> outputs = new LinkedHashMap<>();
        for (int i = 0; i < aliases.size(); i++) {
          outputs.put(aliases.get(i), TensorProtoConverter.toProto(result.get(i)));
        }
        return new Execution(outputs, result.getMetadata().orElse(null));
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

  private static List<String> checkedOutputFilter(String name, SignatureDef signature,
                                                  List<String> filter) {
    for (String alias : filter) {
      TensorInfo info = signature.getOutputsMap().get(alias);
      if (info == null) {
        throw ServingException.invalidArgument("output tensor alias not found in signature: "
            + alias + ". Outputs of \"" + name + "\" are " + signature.getOutputsMap().keySet());
      }
    }
    return List.copyOf(new java.util.LinkedHashSet<>(filter));
  }

  private ModelSpec servedSpec(String signatureName) {
    return servedSpecs.computeIfAbsent(signatureName, name -> ModelSpec.newBuilder()
        .setName(id.name())
        .setVersion(Int64Value.of(id.version()))
        .setSignatureName(name)
        .build());
  }
}
