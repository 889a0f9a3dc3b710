package io.infergate.loadtest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Sums a CPU profile in async-profiler's collapsed format (one stack per line, frames separated by
 * {@code ;}, then the sample count) by where the time goes: each sample belongs to the part of the
 * path that owns the frame nearest its leaf (a {@code HashMap.get} called by the JSON decoder is
 * JSON; a kernel write called by Netty is a socket write). With the number of requests served
 * while profiling it prints CPU microseconds per request for each part.
 *
 * <p>Usage: {@code ProfileSummary STACKS_FILE REQUESTS [SAMPLE_INTERVAL_MICROS (1000)]}
 */
public final class ProfileSummary {

  /** Parts of the path, most specific first; a frame belongs to the first part with a matching fragment. */
  private static final Map<String, List<String>> PARTS = new LinkedHashMap<>();

  static {
    PARTS.put("JIT compiler", List.of("CompileBroker"));
    PARTS.put("garbage collector", List.of("GCTaskThread", "PSPromotion", "PSScavenge", "ScavengeRoots", "G1",
        "VMThread", "WorkerThread::run"));
    PARTS.put("TensorFlow (native)", List.of("tensorflow::", "TF_SessionRun", "Eigen", "mkl", "dnnl", "tsl::"));
    PARTS.put("TensorFlow Java / JavaCPP", List.of("org/tensorflow/Session", "org/tensorflow/Tensor",
        "org/tensorflow/internal", "org/tensorflow/ndarray", "org/tensorflow/types", "org/bytedeco"));
    PARTS.put("batching (merge, split, queue)", List.of("io/infergate/worker/batching"));
    PARTS.put("worker (servable, answers)", List.of("io/infergate/worker"));
    PARTS.put("metrics", List.of("io/micrometer", "RequestMetrics", "BatchMetrics"));
    PARTS.put("JSON", List.of("PredictJson", "JsonCodec", "jackson", "JsonTensorBuilder", "FloatingDecimal",
        "OpenInferenceJson"));
    PARTS.put("protobuf", List.of("com/google/protobuf", "org/tensorflow/framework", "io/infergate/proto",
        "tensorflow/serving"));
    PARTS.put("event bus and frames", List.of("eventbus", "FrameSender", "Frames", "MessageCodec", "BusCodecs",
        "com/hazelcast"));
    PARTS.put("deadlines", List.of("ExpiryWatch", "setTimer", "cancelTimer", "ScheduledFuture"));
    PARTS.put("socket writes (kernel)", List.of("tcp_sendmsg", "sock_write", "__x64_sys_write", "writev",
        "sys_sendto"));
    PARTS.put("socket reads (kernel)", List.of("sock_read", "ksys_read", "recvfrom", "tcp_recvmsg"));
    PARTS.put("waiting and waking threads", List.of("epoll", "wakeup", "futex", "Unsafe.park", "unpark",
        "pthread_cond", "schedule", "finish_task_switch"));
    PARTS.put("HTTP/1.1, HTTP/2, gRPC framing", List.of("io/netty/handler/codec/http", "io/vertx/core/http",
        "io/vertx/grpc", "Http2", "hpack"));
    PARTS.put("gateway (routing, admission, dispatch)", List.of("io/infergate"));
    PARTS.put("Vert.x (futures, contexts)", List.of("io/vertx"));
    PARTS.put("Netty (buffers, channels, event loop)", List.of("io/netty"));
  }

  public static void main(String[] args) throws IOException {
    if (args.length < 2) {
      System.err.println("usage: ProfileSummary STACKS_FILE REQUESTS [SAMPLE_INTERVAL_MICROS]");
      System.exit(2);
    }
    long requests = Long.parseLong(args[1]);
    double intervalMicros = args.length > 2 ? Double.parseDouble(args[2]) : 1000;
    Map<String, Long> samples = new LinkedHashMap<>();
    PARTS.keySet().forEach(part -> samples.put(part, 0L));
    long total = 0;
    try (Stream<String> lines = Files.lines(Path.of(args[0]))) {
      for (String line : (Iterable<String>) lines::iterator) {
        int space = line.lastIndexOf(' ');
        if (space < 0) {
          continue;
        }
        long count = Long.parseLong(line.substring(space + 1).trim());
        total += count;
        samples.merge(partOf(line.substring(0, space)), count, Long::sum);
      }
    }
    System.out.printf(Locale.ROOT, "%-42s %8s %14s%n", "part", "share", "us/request");
    long all = total;
    samples.entrySet().stream().filter(entry -> entry.getValue() > 0)
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .forEach(entry -> System.out.printf(Locale.ROOT, "%-42s %7.1f%% %14.2f%n", entry.getKey(),
            100.0 * entry.getValue() / all, entry.getValue() * intervalMicros / requests));
    System.out.printf(Locale.ROOT, "%-42s %7.1f%% %14.2f%n", "all (" + total + " samples, " + requests + " requests)",
        100.0, total * intervalMicros / requests);
  }

  private static String partOf(String stack) {
    String[] frames = stack.split(";");
    for (int i = frames.length - 1; i >= 0; i--) {
      for (Map.Entry<String, List<String>> part : PARTS.entrySet()) {
        for (String fragment : part.getValue()) {
          if (frames[i].contains(fragment)) {
            return part.getKey();
          }
        }
      }
    }
    return stack.endsWith("_[k]") ? "kernel, other" : "JDK and other";
  }
}
