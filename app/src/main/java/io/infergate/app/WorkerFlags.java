package io.infergate.app;

import io.infergate.common.config.ConfigException;
import io.infergate.common.config.TextProtoFiles;
import io.infergate.proto.serving.BatchingParameters;
import io.infergate.proto.serving.ModelConfig;
import io.infergate.proto.serving.ModelServerConfig;
import io.infergate.worker.WorkerOptions;
import io.infergate.worker.batching.BatchConfig;
import io.infergate.worker.lifecycle.ManagerOptions;
import io.infergate.worker.lifecycle.MemoryBudget;
import io.infergate.worker.runtime.GpuMetrics;
import io.infergate.worker.lifecycle.ModelRoots;
import io.infergate.worker.lifecycle.ModelServerConfigs;
import io.infergate.worker.runtime.SavedModelOptions;
import io.infergate.worker.runtime.SessionOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Arrays;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GPUOptions;
import picocli.CommandLine.Option;

/**
 * The worker's flags: tensorflow_model_server's names and meanings where it has them. Each can
 * also come from an environment variable (INFERGATE_ and the flag's name in capitals); a flag
 * on the command line wins.
 */
final class WorkerFlags {

  /** TensorFlow's inter-op setting for "run each op on the thread that called Session.run". */
  private static final int IN_CALLING_THREAD = -1;

  @Option(names = "--model_name", defaultValue = "${env:INFERGATE_MODEL_NAME:-default}",
      description = "Name of the model in single-model mode. Default: ${DEFAULT-VALUE}")
  String modelName;

  @Option(names = "--model_base_path", defaultValue = "${env:INFERGATE_MODEL_BASE_PATH}",
      description = "Directory of the model's numbered version folders (single-model mode)")
  String modelBasePath;

  @Option(names = "--model_config_file", defaultValue = "${env:INFERGATE_MODEL_CONFIG_FILE}",
      description = "ModelServerConfig in text format; overrides --model_name and --model_base_path")
  Path modelConfigFile;

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
      description = "Threads for one op's work; 0 = the cores divided by the runs that execute at once "
          + "(num_batch_threads with batching, else the inference threads), at least 1. Default: ${DEFAULT-VALUE}")
  int intraOpParallelism;

  @Option(names = "--tensorflow_inter_op_parallelism", defaultValue = "${env:INFERGATE_TENSORFLOW_INTER_OP_PARALLELISM:-0}",
      description = "Threads for independent ops, one pool for the process; 0 or -1 = each run executes its ops on "
          + "its own (batch or inference) thread. Default: ${DEFAULT-VALUE}")
  int interOpParallelism;

  @Option(names = "--enable_batching", arity = "0..1", fallbackValue = "true",
      defaultValue = "${env:INFERGATE_ENABLE_BATCHING:-false}",
      description = "Merge concurrent requests for a servable into batches. Default: ${DEFAULT-VALUE}")
  boolean enableBatching;

  @Option(names = "--batching_parameters_file", defaultValue = "${env:INFERGATE_BATCHING_PARAMETERS_FILE}",
      description = "BatchingParameters in text format; TF Serving's defaults when absent")
  Path batchingParametersFile;

  @Option(names = "--enable_per_model_batching_parameters", arity = "0..1", fallbackValue = "true",
      defaultValue = "${env:INFERGATE_ENABLE_PER_MODEL_BATCHING_PARAMETERS:-false}",
      description = "Read batching_params.pbtxt from each version's folder. Default: ${DEFAULT-VALUE}")
  boolean perModelBatching;

  @Option(names = "--file_system_poll_wait_seconds", defaultValue = "${env:INFERGATE_FILE_SYSTEM_POLL_WAIT_SECONDS:-1}",
      description = "Seconds between scans of model folders for new versions; 0 = scan once. Default: ${DEFAULT-VALUE}")
  int fileSystemPollSeconds;

  @Option(names = "--model_config_file_poll_wait_seconds",
      defaultValue = "${env:INFERGATE_MODEL_CONFIG_FILE_POLL_WAIT_SECONDS:-0}",
      description = "Seconds between re-reads of --model_config_file; 0 = read once. Default: ${DEFAULT-VALUE}")
  int configPollSeconds;

  @Option(names = "--max_num_load_retries", defaultValue = "${env:INFERGATE_MAX_NUM_LOAD_RETRIES:-5}",
      description = "Further attempts after a failed load. Default: ${DEFAULT-VALUE}")
  int maxLoadRetries;

  @Option(names = "--load_retry_interval_micros", defaultValue = "${env:INFERGATE_LOAD_RETRY_INTERVAL_MICROS:-60000000}",
      description = "Pause between load attempts, in microseconds. Default: ${DEFAULT-VALUE}")
  long loadRetryIntervalMicros;

  @Option(names = "--enable_model_warmup", arity = "0..1", fallbackValue = "true",
      defaultValue = "${env:INFERGATE_ENABLE_MODEL_WARMUP:-true}",
      description = "Warm a version up before it takes traffic. Default: ${DEFAULT-VALUE}")
  boolean warmup;

  @Option(names = "--num_request_iterations_for_warmup",
      defaultValue = "${env:INFERGATE_NUM_REQUEST_ITERATIONS_FOR_WARMUP:-1}",
      description = "Times each warmup record is replayed. Default: ${DEFAULT-VALUE}")
  int warmupIterations;

  @Option(names = "--per_process_gpu_memory_fraction",
      defaultValue = "${env:INFERGATE_PER_PROCESS_GPU_MEMORY_FRACTION:-0}",
      description = "Share of each GPU's memory TensorFlow may take; 0 = TF chooses. Default: ${DEFAULT-VALUE}")
  double gpuMemoryFraction;

  @Option(names = "--gpu_allow_growth", arity = "0..1", fallbackValue = "true",
      defaultValue = "${env:INFERGATE_GPU_ALLOW_GROWTH:-false}",
      description = "Let TensorFlow grow GPU memory as needed instead of taking it up front. Default: ${DEFAULT-VALUE}")
  boolean gpuAllowGrowth;

  @Option(names = "--gpu_visible_devices", defaultValue = "${env:INFERGATE_GPU_VISIBLE_DEVICES:-}",
      description = "Comma-separated GPU ids TensorFlow may use (e.g. 0,1); empty = all")
  String gpuVisibleDevices;

  @Option(names = "--memory_budget_bytes", defaultValue = "${env:INFERGATE_MEMORY_BUDGET_BYTES:-0}",
      description = "Memory the worker's loaded versions may hold together (each measured at its load); 0 = the "
          + "GPUs' memory (times --per_process_gpu_memory_fraction) where nvidia-smi reports GPUs, else the "
          + "process's memory (the container's limit, else the machine's) less the Java heap, less a fifth. "
          + "Default: ${DEFAULT-VALUE}")
  long memoryBudgetBytes;

  @Option(names = "--run_memory_limit_bytes", defaultValue = "${env:INFERGATE_RUN_MEMORY_LIMIT_BYTES:-0}",
      description = "Estimated peak memory one TensorFlow run (a request, or a batch) may take; a request past it "
          + "is refused with INVALID_ARGUMENT before it runs, and batches hold no more rows than fit. Each "
          + "signature's memory per input element is measured at load with traced runs of 1 and 4 rows. 0 = "
          + "the memory --memory_budget_bytes defaults to (the GPUs', else the process's less the heap) divided "
          + "by the runs at once; -1 = no limit. Default: ${DEFAULT-VALUE}")
  long runMemoryLimitBytes;

  @Option(names = "--default_model_paging", defaultValue = "${env:INFERGATE_DEFAULT_MODEL_PAGING:-pinned}",
      description = "How a model whose config sets no paging is kept: pinned (always loaded) or pageable (loaded "
          + "on its first request, evicted least recently used when a load needs room under --memory_budget_bytes). "
          + "Default: ${DEFAULT-VALUE}")
  String defaultModelPaging;

  @Option(names = "--allowed_model_roots", defaultValue = "${env:INFERGATE_ALLOWED_MODEL_ROOTS:-}",
      description = "Comma-separated folders a model config sent by a client (gRPC HandleReloadConfigRequest) may "
          + "load models from. Default: the folders holding the started config's base paths")
  String allowedModelRoots;

  /** Checks the worker's flags and config files; throws ConfigException with a clear message. */
  WorkerOptions toOptions() {
    if (numLoadThreads < 0 || numInferenceThreads < 0) {
      throw new ConfigException("Thread counts cannot be negative");
    }
    String[] tags = Arrays.stream(savedModelTags.split(",")).map(String::trim).filter(t -> !t.isEmpty())
        .toArray(String[]::new);
    if (tags.length == 0) {
      throw new ConfigException("--saved_model_tags names no tag");
    }
    if (gpuMemoryFraction < 0 || gpuMemoryFraction > 1) {
      throw new ConfigException("--per_process_gpu_memory_fraction must be between 0 and 1");
    }
    if (memoryBudgetBytes < 0) {
      throw new ConfigException("--memory_budget_bytes cannot be negative");
    }
    if (runMemoryLimitBytes < -1) {
      throw new ConfigException("--run_memory_limit_bytes is a number of bytes, 0 (the default) or -1 (no limit)");
    }
    if (maxLoadRetries < 0 || loadRetryIntervalMicros < 0 || warmupIterations < 0) {
      throw new ConfigException("--max_num_load_retries, --load_retry_interval_micros and "
          + "--num_request_iterations_for_warmup cannot be negative");
    }
    if (batchingParametersFile != null && !enableBatching) {
      throw new ConfigException("--batching_parameters_file needs --enable_batching");
    }
    BatchingParameters batching = null;
    int inferenceThreads = numInferenceThreads == 0 ? GatewayFlags.CORES : numInferenceThreads;
    int concurrentRuns = inferenceThreads;
    if (enableBatching) {
      batching = batchingParametersFile == null ? BatchingParameters.getDefaultInstance()
          : TextProtoFiles.read(batchingParametersFile, BatchingParameters.getDefaultInstance());
      // BatchConfig.of also fails fast on bad parameters.
      concurrentRuns = BatchConfig.of(batching, GatewayFlags.CORES).numBatchThreads();
    }
    // TF's thread pools are one per process, shared by every run. With as many runs at once as
    // there are cores, TF's default of all cores per pool oversubscribed them (measured: 1.6x
    // fewer requests per second on 2 cores), so the intra-op pool gets the cores divided by the
    // runs at once, and each run executes its ops on its own thread: an inter-op pool of that
    // size (one thread on 2 cores) made concurrent runs queue for it, and every op cost a hand-off.
    int share = Math.max(1, GatewayFlags.CORES / concurrentRuns);
    ConfigProto session = ConfigProto.newBuilder()
        .setIntraOpParallelismThreads(intraOpParallelism == 0 ? share : intraOpParallelism)
        .setInterOpParallelismThreads(interOpParallelism == 0 ? IN_CALLING_THREAD : interOpParallelism)
        .setGpuOptions(GPUOptions.newBuilder()
            .setPerProcessGpuMemoryFraction(gpuMemoryFraction)
            .setAllowGrowth(gpuAllowGrowth)
            .setVisibleDeviceList(gpuVisibleDevices.trim()))
        .build();
    long budget = memoryBudgetBytes != 0 ? memoryBudgetBytes : defaultMemoryBudget();
    ManagerOptions lifecycle = new ManagerOptions(maxLoadRetries, loadRetryIntervalMicros / 1000,
        allowLabelsForUnavailableModels, budget, paging(defaultModelPaging));
    // Runs at once, each within its share of the device's memory, cannot together ask for more than
    // there is. The device's, not --memory_budget_bytes: that budget is the models' and may be set
    // small to page them.
    long runMemoryLimit = runMemoryLimitBytes == -1 ? 0
        : runMemoryLimitBytes == 0 ? Math.max(1, defaultMemoryBudget() / concurrentRuns) : runMemoryLimitBytes;
    SavedModelOptions loader = new SavedModelOptions(new SessionOptions(Arrays.asList(tags), session), warmup,
        Math.max(1, warmupIterations), perModelBatching, runMemoryLimit);
    ModelServerConfig config = ModelServerConfigs.validated(modelConfig());
    return new WorkerOptions(config, modelConfigFile, configPollSeconds, fileSystemPollSeconds, lifecycle, loader, batching,
        inferenceThreads, Math.max(1, numLoadThreads), allowedRoots(config));
  }

  /**
   * With a GPU, its memory (times --per_process_gpu_memory_fraction when set): the models live
   * there. Without one, the process's memory less the heap ({@link MemoryBudget}).
   */
  private long defaultMemoryBudget() {
    return GpuMetrics.totalMemoryBytes()
        .stream().map(total -> gpuMemoryFraction > 0 ? (long) (total * gpuMemoryFraction) : total)
        .findFirst().orElseGet(MemoryBudget::defaultBytes);
  }

  private static ModelConfig.Paging paging(String name) {
    return switch (name) {
      case "pinned" -> ModelConfig.Paging.PINNED;
      case "pageable" -> ModelConfig.Paging.PAGEABLE;
      default -> throw new ConfigException("--default_model_paging is pinned or pageable, not " + name);
    };
  }

  private ModelRoots allowedRoots(ModelServerConfig config) {
    List<Path> roots = Arrays.stream(allowedModelRoots.split(",")).map(String::trim).filter(r -> !r.isEmpty())
        .map(Path::of).toList();
    for (Path root : roots) {
      if (!Files.isDirectory(root)) {
        throw new ConfigException("Allowed model root " + root + " is not a directory");
      }
    }
    return roots.isEmpty() ? ModelRoots.around(config) : new ModelRoots(roots);
  }

  private ModelServerConfig modelConfig() {
    if (modelConfigFile != null) {
      return ModelServerConfigs.read(modelConfigFile);
    }
    if (modelBasePath == null || modelBasePath.isEmpty()) {
      throw new ConfigException("Give --model_config_file, or --model_base_path (with --model_name)");
    }
    return ModelServerConfigs.singleModel(modelName, modelBasePath);
  }
}
