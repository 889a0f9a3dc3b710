package io.infergate.worker.runtime;

import io.infergate.common.metrics.MetricNames;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Utilisation and memory of each NVIDIA GPU, read from {@code nvidia-smi} every few seconds on a
 * blocking thread. On a machine without it (no GPU, or no driver) the first poll finds out and
 * polling stops: no GPU gauges are exported.
 */
public final class GpuMetrics {

  private static final Logger LOG = LoggerFactory.getLogger(GpuMetrics.class);
  private static final long PERIOD_MILLIS = 5_000;
  private static final String[] COMMAND = {"nvidia-smi",
      "--query-gpu=index,name,utilization.gpu,memory.used,memory.total", "--format=csv,noheader,nounits"};

  /** One GPU's reading; memory in bytes, utilisation as a ratio. */
  record Reading(String index, String name, double utilization, double usedBytes, double totalBytes) {}

  private final MeterRegistry registry;
  private final Map<String, Reading> latest = new ConcurrentHashMap<>();

  private GpuMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Starts polling from the calling verticle's context (the timer ends with it). */
  public static void start(Vertx vertx, WorkerExecutor blocking, MeterRegistry registry) {
    GpuMetrics gpus = new GpuMetrics(registry);
    long[] timer = {-1};
    Runnable poll = () -> blocking.executeBlocking(GpuMetrics::query, false)
        .onSuccess(gpus::update)
        .onFailure(failure -> {
          LOG.debug("No GPU metrics: {}", failure.getMessage());
          vertx.cancelTimer(timer[0]);
        });
    timer[0] = vertx.setPeriodic(0, PERIOD_MILLIS, id -> poll.run());
  }

  /**
   * The memory of the GPUs {@code nvidia-smi} reports (all of them: TensorFlow's visible-device
   * list narrows what a process uses, not what the card has), or empty without a GPU or driver.
   * Blocking; a worker's default memory budget comes from it.
   */
  public static OptionalLong totalMemoryBytes() {
    try {
      List<Reading> readings = query();
      return readings.isEmpty() ? OptionalLong.empty()
          : OptionalLong.of((long) readings.stream().mapToDouble(Reading::totalBytes).sum());
    } catch (IOException e) {
      return OptionalLong.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return OptionalLong.empty();
    }
  }

  private static List<Reading> query() throws IOException, InterruptedException {
    Process process = new ProcessBuilder(COMMAND).redirectErrorStream(true).start();
    // Waited for before reading: a hung driver must not hold the loader thread forever (the output,
    // a line per GPU, fits the pipe's buffer, so nvidia-smi never blocks writing it).
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IOException("nvidia-smi did not answer within 10 s");
    }
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (process.exitValue() != 0) {
      throw new IOException("nvidia-smi failed: " + output.strip());
    }
    return parse(output);
  }

  /** nvidia-smi's CSV without header or units: {@code 0, NVIDIA H200, 37, 1024, 143771} (MiB). */
  static List<Reading> parse(String csv) {
    List<Reading> readings = new ArrayList<>();
    for (String line : csv.strip().split("\n")) {
      String[] cells = line.split(",");
      if (cells.length != 5) {
        continue;
      }
      readings.add(new Reading(cells[0].strip(), cells[1].strip(), number(cells[2]) / 100,
          number(cells[3]) * 1024 * 1024, number(cells[4]) * 1024 * 1024));
    }
    return readings;
  }

  /** A value nvidia-smi could not read is "[N/A]": NaN, which Prometheus shows as such. */
  private static double number(String cell) {
    try {
      return Double.parseDouble(cell.strip());
    } catch (NumberFormatException e) {
      return Double.NaN;
    }
  }

  private void update(List<Reading> readings) {
    for (Reading reading : readings) {
      if (latest.put(reading.index(), reading) == null) {
        register(reading);
      }
    }
  }

  private void register(Reading first) {
    String index = first.index();
    gauge(MetricNames.GPU_UTILIZATION, "Share of time a GPU was busy (nvidia-smi)", index, first.name(), null,
        r -> r.utilization());
    gauge(MetricNames.GPU_MEMORY_USED, "GPU memory in use", index, first.name(), "bytes", r -> r.usedBytes());
    gauge(MetricNames.GPU_MEMORY_TOTAL, "GPU memory in all", index, first.name(), "bytes", r -> r.totalBytes());
  }

  private void gauge(String name, String description, String index, String model, String unit,
                     ToDoubleFunction<Reading> value) {
    Gauge.builder(name, latest, map -> value.applyAsDouble(map.get(index)))
        .description(description).baseUnit(unit).tags("gpu", index, "name", model).register(registry);
  }
}
