package io.infergate.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.infergate.netlab.NetworkLab;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.databind.JsonNode;

/**
 * The cpu overlay's pods, run for real from the built image: a gateway and a worker, each in a
 * network namespace with its own address, find each other through the headless Service's name
 * (dnsmasq standing in for the cluster DNS); the kubelet's probes are asked on the rendered paths
 * and ports; a prediction goes through the gateway; a second worker joins (scale up); the first
 * leaves under steady traffic (scale down) and no request fails.
 *
 * <p>Needs root, iproute2, dnsmasq, skopeo, umoci, redis-server and the image tarball that the
 * app module's {@code image} profile builds (bin/test does all of it). Without
 * {@code -Dinfergate.k8s.pods=required} the test is skipped when they are missing; with it, it fails.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PodsInNetnsTest {

  private static final Path IMAGE = Manifests.ROOT.resolve("app/target/jib-image.tar");
  private static final Path DIR = Manifests.ROOT.resolve("k8s-test/target/pods");
  private static final String CLUSTER_SERVICE = "infergate-cluster";
  private static final String TOKEN = "pods-admin-token";
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  static NetworkLab lab;
  static ClusterDns dns;
  static Process redis;
  static Pod.Runtime runtime;
  static Pod gateway;
  static Pod firstWorker;
  static Pod secondWorker;
  /** The first worker's id in the registry (Vert.x's node id). */
  static String firstWorkerId;
  static final List<Pod> pods = new ArrayList<>();

  @BeforeAll
  static void startPods() throws Exception {
    List<String> missing = new ArrayList<>();
    if (!Files.isRegularFile(IMAGE)) {
      missing.add(IMAGE + " (build with -Pimage)");
    }
    if (!NetworkLab.available()) {
      missing.add("root and iproute2");
    }
    for (String tool : List.of("dnsmasq", "skopeo", "umoci", "redis-server")) {
      if (new ProcessBuilder("sh", "-c", "command -v " + tool).start().waitFor() != 0) {
        missing.add(tool);
      }
    }
    if ("required".equals(System.getProperty("infergate.k8s.pods"))) {
      assertThat(missing).as("what running the pods needs").isEmpty();
    }
    Assumptions.assumeTrue(missing.isEmpty(), "Pods not run; missing: " + missing);

    Manifests manifests = Manifests.of("k8s/overlays/cpu");
    ImageBundle image = ImageBundle.unpack(IMAGE, DIR.resolve("image"));
    Files.writeString(image.rootfs().resolve("etc/resolv.conf"), "nameserver " + NetworkLab.testAddress() + "\n");
    Path models = DIR.resolve("models");
    ImageBundle.run(List.of("rm", "-rf", models.toString()));
    ImageBundle.run(List.of(java(), "-jar", Manifests.ROOT.resolve("app/target/infergate.jar").toString(),
        "train-demo", "--out", models.toString()));
    lab = new NetworkLab();
    dns = new ClusterDns(NetworkLab.testAddress(), DIR.resolve("dns"));
    // The features config names Redis by its Service name; here it runs on the lab's own address.
    redis = new ProcessBuilder("redis-server", "--bind", NetworkLab.testAddress(), "--port", "6379", "--save", "",
        "--appendonly", "no", "--protected-mode", "no").redirectOutput(DIR.resolve("redis.log").toFile()).start();
    dns.add("redis", NetworkLab.testAddress());
    runtime = new Pod.Runtime(lab, image, manifests, Map.of("infergate-models", models),
        Map.of("infergate-credentials/cluster-secret", "pods-test-cluster-secret-0123456789abcdef",
            "infergate-credentials/admin-token", TOKEN),
        DIR);
    firstWorker = startMember("worker", "worker-a");
    gateway = startMember("gateway", "gateway-a");
    awaitReady(firstWorker);
    awaitReady(gateway);
  }

  @AfterAll
  static void stopPods() throws Exception {
    for (Pod pod : pods) {
      pod.process().destroyForcibly();
    }
    if (lab != null) {
      lab.close();
    }
    if (dns != null) {
      dns.close();
    }
    if (redis != null) {
      redis.destroy();
    }
  }

  @Test
  @Order(1)
  void theWorkerIsLiveWhileLoadingAndTheGatewayPredictsThroughTheCluster() throws Exception {
    assertThat(get(firstWorker, "/metrics").body()).contains("infergate_worker_requests_in_flight{model=\"ctr\"");
    HttpResponse<String> prediction = predict();
    assertThat(prediction.statusCode()).as(prediction.body()).isEqualTo(200);
    assertThat(StrictModel.MAPPER.readTree(prediction.body()).path("predictions").size()).isEqualTo(1);
    assertThat(workersServingCtr()).hasSize(1);
    firstWorkerId = workersServingCtr().get(0);
  }

  @Test
  @Order(2)
  void aSecondWorkerJoinsThroughTheServiceName() throws Exception {
    secondWorker = startMember("worker", "worker-b");
    awaitReady(secondWorker);
    awaitWorkers(2);
    assertThat(dns.asked(secondWorker.address(), CLUSTER_SERVICE)).as("found the cluster by the Service's name").isTrue();
  }

  @Test
  @Order(3)
  void aWorkerLeavesUnderTrafficAndNoRequestFails() throws Exception {
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicInteger succeeded = new AtomicInteger();
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    Thread traffic = new Thread(() -> {
      while (running.get()) {
        try {
          HttpResponse<String> answer = predict();
          if (answer.statusCode() == 200) {
            succeeded.incrementAndGet();
          } else {
            failures.add(answer.statusCode() + " " + answer.body());
          }
          Thread.sleep(10);
        } catch (Exception e) {
          failures.add(e.toString());
        }
      }
    });
    traffic.start();
    Thread.sleep(2_000);
    int before = succeeded.get();
    // The endpoints controller drops a terminating pod; the kubelet sends SIGTERM.
    dns.remove(CLUSTER_SERVICE, firstWorker.address());
    int exit = firstWorker.terminate();
    awaitWorkers(1);
    Thread.sleep(2_000);
    running.set(false);
    traffic.join();
    assertThat(exit).as("stopped within its grace period, cleanly:\n" + firstWorker.logText()).isIn(0, 143);
    assertThat(failures).as("requests failed while a worker left").isEmpty();
    assertThat(succeeded.get()).isGreaterThan(before + 20);
    assertThat(workersServingCtr()).hasSize(1).doesNotContain(firstWorkerId);
  }

  private static Pod startMember(String subcommand, String name) throws Exception {
    Deployment deployment = runtime.manifests().deployments().stream()
        .filter(d -> ManifestsTest.subcommand(d).equals(subcommand)).findFirst().orElseThrow();
    Pod pod = Pod.start(runtime, deployment, name);
    pods.add(pod);
    // The headless Service publishes not-ready addresses: a pod is in DNS as soon as it has its IP.
    dns.add(CLUSTER_SERVICE, pod.address());
    return pod;
  }

  /**
   * As the kubelet: the startup probe until it passes (liveness answering meanwhile), then the
   * readiness probe until it passes too (a gateway is live before it is ready: it warms its
   * request path up first), within the startup probe's bound.
   */
  private static void awaitReady(Pod pod) throws Exception {
    var container = ManifestsTest.container(pod.deployment());
    Probe startup = container.getStartupProbe();
    long deadline = System.nanoTime() + Duration.ofSeconds((long) startup.getPeriodSeconds()
        * startup.getFailureThreshold()).toNanos();
    while (status(pod, startup.getHttpGet()) != 200) {
      assertThat(pod.process().isAlive()).as(pod.name() + " exited:\n" + pod.logText()).isTrue();
      assertThat(System.nanoTime()).as(pod.name() + " did not start:\n" + pod.logText()).isLessThan(deadline);
      Thread.sleep(500);
    }
    assertThat(status(pod, container.getLivenessProbe().getHttpGet())).isEqualTo(200);
    while (status(pod, container.getReadinessProbe().getHttpGet()) != 200) {
      assertThat(System.nanoTime()).as(pod.name() + " did not become ready:\n" + pod.logText()).isLessThan(deadline);
      Thread.sleep(200);
    }
  }

  private static int status(Pod pod, HTTPGetAction probe) {
    int port = ManifestsTest.container(pod.deployment()).getPorts().stream()
        .filter(p -> p.getName().equals(probe.getPort().getStrVal())).findFirst().orElseThrow().getContainerPort();
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create("http://" + pod.address() + ":" + port + probe.getPath()))
          .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  private static HttpResponse<String> get(Pod pod, String path) throws Exception {
    int port = ManifestsTest.container(pod.deployment()).getPorts().stream()
        .filter(p -> p.getName().equals("monitoring")).findFirst().orElseThrow().getContainerPort();
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://" + pod.address() + ":" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> predict() throws Exception {
    String request = Files.readString(Manifests.ROOT.resolve("loadtest/ctr-request.json"));
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://" + gateway.address() + ":8501/v1/models/ctr:predict"))
        .timeout(Duration.ofSeconds(15)).POST(HttpRequest.BodyPublishers.ofString(request)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The ids of the workers serving ctr, from the gateway's admin API. */
  private static List<String> workersServingCtr() throws Exception {
    HttpResponse<String> answer = HTTP.send(HttpRequest.newBuilder(
            URI.create("http://" + gateway.address() + ":8501/admin/registry"))
        .header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    List<String> workers = new ArrayList<>();
    for (JsonNode version : StrictModel.MAPPER.readTree(answer.body()).path("models").path("ctr").path("versions")) {
      version.path("workers").forEach(worker -> workers.add(worker.asString()));
    }
    return workers;
  }

  private static void awaitWorkers(int count) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (workersServingCtr().size() != count) {
      assertThat(System.nanoTime()).as("workers serving ctr: " + workersServingCtr()).isLessThan(deadline);
      Thread.sleep(250);
    }
  }

  private static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }
}
