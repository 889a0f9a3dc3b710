package io.infergate.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.infergate.common.config.ConfigException;
import io.infergate.worker.TestModels;
import io.infergate.worker.lifecycle.MemoryBudget;
import io.infergate.worker.runtime.GpuMetrics;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.ConfigProto;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/** `infergate serve` refuses bad flags and configs at start, with a clear message and a non-zero exit. */
class ServeCommandTest {

  @TempDir
  Path dir;

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "--rest_api_port=8501 --no_such_flag=1                          | 2 | Unknown option: '--no_such_flag=1'",
      "--rest_api_port=abc                                            | 2 | Invalid value for option '--rest_api_port'",
      "--model_name=m                                                 | 2 | Give --model_config_file, or --model_base_path",
      "--model_base_path=/does/not/exist                              | 2 | Base path /does/not/exist of model 'default' does not exist",
      "--model_config_file=/does/not/exist.config                     | 2 | Cannot read /does/not/exist.config",
      "--port=9000 --rest_api_port=9000 --model_base_path=/tmp        | 2 | --port and --rest_api_port must differ",
      "--rest_api_timeout_in_ms=0 --model_base_path=/tmp              | 2 | --rest_api_timeout_in_ms must be positive",
      "--batching_parameters_file=/tmp/b --model_base_path=/tmp       | 2 | --batching_parameters_file needs --enable_batching",
      "--per_process_gpu_memory_fraction=1.5 --model_base_path=/tmp   | 2 | --per_process_gpu_memory_fraction must be between 0 and 1",
      "--tls_cert_file=/nope.pem --model_base_path=/tmp               | 2 | TLS needs both --tls_cert_file and --tls_key_file",
      "--tls_cert_file=/nope.pem --tls_key_file=/k --model_base_path=/tmp | 2 | Cannot read /nope.pem",
      "--ssl_config_file=/s --tls_key_file=/k --model_base_path=/tmp  | 2 | either as --ssl_config_file or as --tls_* flags",
      "--max_concurrent_requests=0 --model_base_path=/tmp             | 2 | --max_connections and --max_concurrent_requests must be positive",
      "--max_inflight_request_bytes=1000 --model_base_path=/tmp       | 2 | cannot hold even one of the largest requests allowed",
      "--allowed_model_roots=/does/not/exist --model_base_path=/tmp   | 2 | Allowed model root /does/not/exist is not a directory",
  })
  void stopsAtStartWithAClearMessage(String args, int exitCode, String message) {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertThat(execute("serve " + args, err)).isEqualTo(exitCode);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains(message);
  }

  @Test
  void theDemoRefusesAnInt8ShareOutsideZeroToAHundred() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertThat(execute("demo --dir=" + dir + " --int8_percent=150", err)).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("--int8_percent must be between 0 and 100, not 150");
  }

  /** Runs the command line as `infergate` would; its error output goes to err. */
  private static int execute(String commandLine, ByteArrayOutputStream err) {
    CommandLine cli = new CommandLine(new Main());
    cli.setErr(new java.io.PrintWriter(err, true));
    PrintStream previous = System.err;
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      return cli.execute(commandLine.trim().split("\\s+"));
    } finally {
      System.setErr(previous);
    }
  }

  /** TF's pools are per process: each concurrent run gets its share of the cores and runs its ops itself. */
  @Test
  void sizesTensorFlowThreadsForTheRunsThatExecuteAtOnce() throws Exception {
    String base = TestModels.tfServing("saved_model_half_plus_two_cpu").toString();
    Path batching = Files.writeString(dir.resolve("batching.config"), "num_batch_threads { value: 2 }");
    ConfigProto defaults = TestServer.options("--model_base_path=" + base, "--enable_batching",
        "--batching_parameters_file=" + batching).worker().loader().session().config();
    assertThat(defaults.getIntraOpParallelismThreads()).isEqualTo(Math.max(1, GatewayFlags.CORES / 2));
    assertThat(defaults.getInterOpParallelismThreads()).isEqualTo(-1);

    ConfigProto chosen = TestServer.options("--model_base_path=" + base, "--tensorflow_intra_op_parallelism=3",
        "--tensorflow_inter_op_parallelism=4").worker().loader().session().config();
    assertThat(chosen.getIntraOpParallelismThreads()).isEqualTo(3);
    assertThat(chosen.getInterOpParallelismThreads()).isEqualTo(4);
  }

  @Test
  void theSmallFootprintRunsOneThreadOfEachKindUnlessAFlagSaysOtherwise() throws Exception {
    String base = "--model_base_path=" + TestModels.tfServing("saved_model_half_plus_two_cpu");
    ServeOptions usual = TestServer.options(base);
    assertThat(usual.eventLoops()).isEqualTo(GatewayFlags.CORES);
    assertThat(usual.worker().inferenceThreads()).isEqualTo(GatewayFlags.CORES);
    assertThat(usual.blockingThreads()).as("Vert.x's defaults").isZero();

    ServeOptions small = TestServer.options(base, "--small_footprint");
    assertThat(small.eventLoops()).isEqualTo(1);
    assertThat(small.worker().inferenceThreads()).isEqualTo(1);
    assertThat(small.worker().loadThreads()).isEqualTo(1);
    assertThat(small.blockingThreads()).isEqualTo(ServeFlags.SMALL_BLOCKING_THREADS);

    ServeOptions chosen = TestServer.options(base, "--small_footprint", "--rest_api_num_threads=3",
        "--num_inference_threads=2");
    assertThat(chosen.eventLoops()).isEqualTo(3);
    assertThat(chosen.worker().inferenceThreads()).isEqualTo(2);

    Path hazelcastFeatures = Files.writeString(dir.resolve("features.config"), "hazelcast {}");
    assertThatThrownBy(() -> TestServer.options(base, "--small_footprint", "--feature_config_file=" + hazelcastFeatures))
        .isInstanceOf(ConfigException.class).hasMessageContaining("--small_footprint runs no Hazelcast member");
    Path redisFeatures = Files.writeString(dir.resolve("redis.config"), "redis { uri: \"redis://127.0.0.1:6379\" }");
    assertThat(TestServer.options(base, "--small_footprint", "--feature_config_file=" + redisFeatures).eventLoops())
        .isEqualTo(1);
  }

  @Test
  void aSmallFootprintServerAnswers() throws Exception {
    try (TestServer server = TestServer.start("--small_footprint", "--rest_api_port=0", "--port=0",
        "--model_name=half_plus_two", "--model_base_path=" + TestModels.tfServing("saved_model_half_plus_two_cpu"))) {
      TestServer.Response answer = server.post("/v1/models/half_plus_two:predict", "{\"instances\": [1.0, 2.0, 5.0]}");
      assertThat(answer.status()).as(answer.body()).isEqualTo(200);
      assertThat(answer.json().getJsonArray("predictions").getList()).containsExactly(2.5, 3.0, 4.5);
    }
  }

  @Test
  void rejectsAnUnparsableModelConfig() throws Exception {
    Path config = Files.writeString(dir.resolve("bad.config"), "model_config_list { config { nme: \"x\" } }");
    assertThatThrownBy(() -> TestServer.options("--model_config_file=" + config))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("Cannot parse " + config + " as tensorflow.serving.ModelServerConfig");
  }

  @Test
  void rejectsDuplicateModelsAndForeignPlatforms() throws Exception {
    String base = TestModels.tfServing("saved_model_half_plus_two_cpu").toString();
    Path duplicate = Files.writeString(dir.resolve("dup.config"), """
        model_config_list { config { name: "a" base_path: "%s" } config { name: "a" base_path: "%s" } }
        """.formatted(base, base));
    assertThatThrownBy(() -> TestServer.options("--model_config_file=" + duplicate))
        .hasMessageContaining("Model 'a' is configured more than once");
    Path platform = Files.writeString(dir.resolve("platform.config"), """
        model_config_list { config { name: "a" base_path: "%s" model_platform: "pytorch" } }
        """.formatted(base));
    assertThatThrownBy(() -> TestServer.options("--model_config_file=" + platform))
        .hasMessageContaining("only 'tensorflow' is served");
  }

  @Test
  void refusesALabelOnAVersionThatIsNotServed() throws Exception {
    Path config = Files.writeString(dir.resolve("label.config"), """
        model_config_list { config { name: "hp" base_path: "%s" version_labels { key: "stable" value: 999 } } }
        """.formatted(TestModels.tfServing("saved_model_half_plus_two_2_versions")));
    assertThatThrownBy(() -> TestServer.start("--rest_api_port=0", "--port=0", "--model_config_file=" + config))
        .isInstanceOf(ExecutionException.class)
        .hasMessageContaining("Label 'stable' of model hp points at version 999, which is not available");
  }

  @Test
  void theMemoryBudgetIsTheFlagOrTheDevicesMemory() {
    String model = "--model_base_path=" + TestModels.tfServing("saved_model_half_plus_two_cpu");
    assertThat(TestServer.options(model, "--memory_budget_bytes=123456").worker().lifecycle().memoryBudgetBytes())
        .isEqualTo(123456);
    // No GPU here: the CPU default, the process's memory less the heap less a fifth.
    assertThat(GpuMetrics.totalMemoryBytes()).isEmpty();
    assertThat(TestServer.options(model).worker().lifecycle().memoryBudgetBytes())
        .isEqualTo(MemoryBudget.defaultBytes()).isPositive();
    assertThatThrownBy(() -> TestServer.options(model, "--memory_budget_bytes=-1"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("cannot be negative");
    assertThatThrownBy(() -> TestServer.options(model, "--default_model_paging=sometimes"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("pinned or pageable");
  }

  @Test
  void oneRunMayTakeItsShareOfTheMemoryUnlessAFlagSaysOtherwise() {
    String model = "--model_base_path=" + TestModels.tfServing("saved_model_half_plus_two_cpu");
    // No GPU here: the process's memory less the heap less a fifth, as the default memory budget.
    assertThat(TestServer.options(model, "--num_inference_threads=3").worker().loader().runMemoryLimitBytes())
        .isEqualTo(MemoryBudget.defaultBytes() / 3);
    assertThat(TestServer.options(model, "--enable_batching").worker().loader().runMemoryLimitBytes())
        .as("batching runs num_batch_threads at once: one per core")
        .isEqualTo(MemoryBudget.defaultBytes() / Runtime.getRuntime().availableProcessors());
    assertThat(TestServer.options(model, "--memory_budget_bytes=1", "--num_inference_threads=3")
        .worker().loader().runMemoryLimitBytes()).as("the models' budget, set small to page them, is not the runs'")
        .isEqualTo(MemoryBudget.defaultBytes() / 3);
    assertThat(TestServer.options(model, "--run_memory_limit_bytes=5000").worker().loader().runMemoryLimitBytes())
        .isEqualTo(5000);
    assertThat(TestServer.options(model, "--run_memory_limit_bytes=-1").worker().loader().runMemoryLimitBytes())
        .as("no limit").isZero();
    assertThatThrownBy(() -> TestServer.options(model, "--run_memory_limit_bytes=-2"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("--run_memory_limit_bytes is a number of bytes");
  }

  @Test
  void servesOnlyTheVersionsTheVersionPolicyNames() throws Exception {
    Path config = Files.writeString(dir.resolve("specific.config"), """
        model_config_list { config { name: "hp" base_path: "%s"
          model_version_policy { specific { versions: 123 } } } }
        """.formatted(TestModels.tfServing("saved_model_half_plus_two_2_versions")));
    try (TestServer server = TestServer.start("--rest_api_port=0", "--port=0", "--model_config_file=" + config)) {
      assertThat(server.get("/v1/models/hp").json().getJsonArray("model_version_status").size()).isEqualTo(1);
      assertThat(server.post("/v1/models/hp:predict", "{\"instances\": [1]}").status()).isEqualTo(200);
      assertThat(server.post("/v1/models/hp/versions/124:predict", "{\"instances\": [1]}").status()).isEqualTo(404);
    }
  }

  @Test
  void theMonitoringConfigMovesOrSwitchesOffMetrics() throws Exception {
    String model = "--model_base_path=" + TestModels.tfServing("saved_model_half_plus_two_cpu");
    Path moved = Files.writeString(dir.resolve("moved.config"), "prometheus_config { enable: true path: \"/metrics\" }");
    try (TestServer server = TestServer.start("--rest_api_port=0", "--port=0", model, "--monitoring_config_file=" + moved)) {
      server.post("/v1/models/default:predict", "{\"instances\": [1]}");
      assertThat(server.get("/metrics").body()).contains("infergate_request_latency_seconds_count{");
      assertThat(server.get("/monitoring/prometheus/metrics").status()).isEqualTo(404);
    }
    Path off = Files.writeString(dir.resolve("off.config"), "prometheus_config { enable: false }");
    try (TestServer server = TestServer.start("--rest_api_port=0", "--port=0", model, "--monitoring_config_file=" + off)) {
      assertThat(server.get("/monitoring/prometheus/metrics").status()).isEqualTo(404);
    }
  }

  @Test
  void rejectsBatchingParametersThatCannotWork() throws Exception {
    Path parameters = Files.writeString(dir.resolve("batching.config"),
        "max_batch_size { value: 8 } allowed_batch_sizes: 2 allowed_batch_sizes: 4");
    assertThatThrownBy(() -> TestServer.options("--model_base_path=/tmp", "--enable_batching",
        "--batching_parameters_file=" + parameters))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("The last entry of allowed_batch_sizes (4) must equal max_batch_size (8)");
  }
}
