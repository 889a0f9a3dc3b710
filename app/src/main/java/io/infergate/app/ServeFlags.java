package io.infergate.app;

import io.infergate.common.config.ConfigException;
import io.infergate.common.config.TextProtoFiles;
import io.infergate.proto.serving.ModelServerConfig;
import io.infergate.proto.serving.MonitoringConfig;
import io.infergate.worker.runtime.SessionOptions;
import java.nio.file.Path;
import java.util.Arrays;
import org.tensorflow.proto.ConfigProto;
import picocli.CommandLine.Option;

/**
 * tensorflow_model_server's flags, with its names, --flag=value form and meanings. Every flag
 * can also come from an environment variable (INFERGATE_ and the flag's name in capitals),
 * which suits Kubernetes; a flag on the command line wins.
 */
final class ServeFlags {

  private static final int CORES = Runtime.getRuntime().availableProcessors();

  @Option(names = "--port", defaultValue = "${env:INFERGATE_PORT:-8500}",
      description = "gRPC port (the gRPC API arrives in a later release; the port is checked now). Default: ${DEFAULT-VALUE}")
  int port;

  @Option(names = "--rest_api_port", defaultValue = "${env:INFERGATE_REST_API_PORT:-8501}",
      description = "REST port (TF Serving's and the Open Inference Protocol's APIs). 0 picks a free port. Default: ${DEFAULT-VALUE}")
  int restApiPort;

  @Option(names = "--rest_api_timeout_in_ms", defaultValue = "${env:INFERGATE_REST_API_TIMEOUT_IN_MS:-30000}",
      description = "Deadline of a REST request, in milliseconds. Default: ${DEFAULT-VALUE}")
  long restApiTimeoutMs;

  @Option(names = "--rest_api_num_threads", defaultValue = "${env:INFERGATE_REST_API_NUM_THREADS:-0}",
      description = "Event loops (and gateway verticles) serving REST; 0 = one per core. Default: ${DEFAULT-VALUE}")
  int restApiThreads;

  @Option(names = "--max_request_body_bytes", defaultValue = "${env:INFERGATE_MAX_REQUEST_BODY_BYTES:-16777216}",
      description = "Largest REST request body; larger ones get HTTP 413. Default: ${DEFAULT-VALUE}")
  long maxRequestBodyBytes;

  @Option(names = "--model_name", defaultValue = "${env:INFERGATE_MODEL_NAME:-default}",
      description = "Name of the model in single-model mode. Default: ${DEFAULT-VALUE}")
  String modelName;

  @Option(names = "--model_base_path", defaultValue = "${env:INFERGATE_MODEL_BASE_PATH}",
      description = "Directory of the model's numbered version folders (single-model mode)")
  String modelBasePath;

  @Option(names = "--model_config_file", defaultValue = "${env:INFERGATE_MODEL_CONFIG_FILE}",
      description = "ModelServerConfig in text format; overrides --model_name and --model_base_path")
  Path modelConfigFile;

  @Option(names = "--monitoring_config_file", defaultValue = "${env:INFERGATE_MONITORING_CONFIG_FILE}",
      description = "MonitoringConfig in text format (Prometheus path or off); metrics are on by default")
  Path monitoringConfigFile;

  @Option(names = "--allow_version_labels_for_unavailable_models", arity = "0..1", fallbackValue = "true",
      defaultValue = "${env:INFERGATE_ALLOW_VERSION_LABELS_FOR_UNAVAILABLE_MODELS:-false}",
      description = "Allow labels that point at versions not (yet) available. Default: ${DEFAULT-VALUE}")
  boolean allowLabelsForUnavailableModels;

  @Option(names = "--num_load_threads", defaultValue = "${env:INFERGATE_NUM_LOAD_THREADS:-0}",
      description = "Threads that load models; 0 = one. Default: ${DEFAULT-VALUE}")
  int numLoadThreads;

  @Option(names = "--num_inference_threads", defaultValue = "${env:INFERGATE_NUM_INFERENCE_THREADS:-0}",
      description = "Threads that run TensorFlow; 0 = one per core. Default: ${DEFAULT-VALUE}")
  int numInferenceThreads;

  @Option(names = "--saved_model_tags", defaultValue = "${env:INFERGATE_SAVED_MODEL_TAGS:-serve}",
      description = "Comma-separated meta-graph tags to load. Default: ${DEFAULT-VALUE}")
  String savedModelTags;

  @Option(names = "--tensorflow_intra_op_parallelism", defaultValue = "${env:INFERGATE_TENSORFLOW_INTRA_OP_PARALLELISM:-0}",
      description = "Threads for one op's work; 0 = TensorFlow chooses. Default: ${DEFAULT-VALUE}")
  int intraOpParallelism;

  @Option(names = "--tensorflow_inter_op_parallelism", defaultValue = "${env:INFERGATE_TENSORFLOW_INTER_OP_PARALLELISM:-0}",
      description = "Threads for independent ops; 0 = TensorFlow chooses, -1 = the calling thread. Default: ${DEFAULT-VALUE}")
  int interOpParallelism;

  /** Checks every flag and config file; throws ConfigException with a clear message. */
  ServeOptions toOptions() {
    if (port < 0 || port > 65535 || restApiPort < 0 || restApiPort > 65535) {
      throw new ConfigException("Ports must be between 0 and 65535");
    }
    if (port != 0 && port == restApiPort) {
      throw new ConfigException("--port and --rest_api_port must differ, both are " + port);
    }
    if (restApiTimeoutMs <= 0) {
      throw new ConfigException("--rest_api_timeout_in_ms must be positive");
    }
    if (maxRequestBodyBytes <= 0) {
      throw new ConfigException("--max_request_body_bytes must be positive");
    }
    if (restApiThreads < 0 || numLoadThreads < 0 || numInferenceThreads < 0) {
      throw new ConfigException("Thread counts cannot be negative");
    }
    String[] tags = Arrays.stream(savedModelTags.split(",")).map(String::trim).filter(t -> !t.isEmpty())
        .toArray(String[]::new);
    if (tags.length == 0) {
      throw new ConfigException("--saved_model_tags names no tag");
    }
    ConfigProto session = ConfigProto.newBuilder()
        .setIntraOpParallelismThreads(intraOpParallelism)
        .setInterOpParallelismThreads(interOpParallelism)
        .build();
    return new ServeOptions(port, restApiPort, restApiTimeoutMs, maxRequestBodyBytes,
        restApiThreads == 0 ? CORES : restApiThreads,
        numInferenceThreads == 0 ? CORES : numInferenceThreads,
        Math.max(1, numLoadThreads),
        ModelConfigs.validated(modelConfig()),
        monitoringConfigFile == null ? MonitoringConfig.getDefaultInstance()
            : TextProtoFiles.read(monitoringConfigFile, MonitoringConfig.getDefaultInstance()),
        new SessionOptions(Arrays.asList(tags), session),
        allowLabelsForUnavailableModels);
  }

  private ModelServerConfig modelConfig() {
    if (modelConfigFile != null) {
      return ModelConfigs.read(modelConfigFile);
    }
    if (modelBasePath == null || modelBasePath.isEmpty()) {
      throw new ConfigException("Give --model_config_file, or --model_base_path (with --model_name)");
    }
    return ModelConfigs.singleModel(modelName, modelBasePath);
  }
}
