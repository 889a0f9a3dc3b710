package io.infergate.worker.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import io.infergate.common.ServableId;
import io.infergate.common.registry.LocalModelRegistry;
import io.infergate.common.registry.ServableRecord;
import io.infergate.common.status.ServingException;
import io.infergate.proto.serving.ModelConfig;
import io.infergate.proto.serving.ModelServerConfig;
import io.infergate.proto.serving.ModelVersionStatus.State;
import io.infergate.proto.serving.SignatureDefMap;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The manager with a fake loader and host: what it loads, serves, publishes and frees, in which order. */
class ModelManagerTest {

  @TempDir
  Path models;

  Vertx vertx;
  Context context;
  WorkerExecutor loads;
  LocalModelRegistry registry;
  /** What happened, in order: "load 1", "serve 1", "available 1", "stop 1", "close 1". */
  final List<String> events = java.util.Collections.synchronizedList(new ArrayList<>());
  /** Versions whose next loads fail, and how many times. */
  final Map<Long, AtomicInteger> failures = new ConcurrentHashMap<>();
  final Map<Long, Path> loadedFrom = new ConcurrentHashMap<>();
  volatile boolean hostRefuses;
  volatile boolean closeFails;
  ModelManager<FakeServable> manager;
  final SimpleMeterRegistry meters = new SimpleMeterRegistry();

  record FakeServable(ServableId id, List<String> events, java.util.function.BooleanSupplier closeFails)
      implements LoadedServable {
    @Override
    public SignatureDefMap signatures() {
      return SignatureDefMap.getDefaultInstance();
    }

    @Override
    public String describe() {
      return "fake";
    }

    @Override
    public long memoryBytes() {
      return id.version() * 1000;
    }

    @Override
    public void close() {
      events.add("close " + id.version());
      if (closeFails.getAsBoolean()) {
        throw new IllegalStateException("TensorFlow could not free " + id);
      }
    }
  }

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
    loads = vertx.createSharedWorkerExecutor("test-load", 2);
    registry = new LocalModelRegistry();
    registry.onChange(() -> registry.snapshot().model("m").ifPresent(model -> model.versions().forEach((v, record) -> {
      if (record.isAvailable() && !events.contains("available " + v)) {
        events.add("available " + v);
      }
    })));
    Loader<FakeServable> loader = (id, directory) -> {
      events.add("load " + id.version());
      AtomicInteger failing = failures.get(id.version());
      if (failing != null && failing.getAndDecrement() > 0) {
        throw ServingException.invalidArgument("corrupt " + id);
      }
      loadedFrom.put(id.version(), directory);
      return new FakeServable(id, events, () -> closeFails);
    };
    ServableHost<FakeServable> host = new ServableHost<>() {
      @Override
      public Future<Void> serve(FakeServable servable) {
        if (hostRefuses) {
          return Future.failedFuture(new IllegalStateException("no consumer"));
        }
        events.add("serve " + servable.id().version());
        return Future.succeededFuture();
      }

      @Override
      public Future<Void> stopServing(ServableId id) {
        events.add("stop " + id.version());
        return Future.succeededFuture();
      }
    };
    manager = onContext(() -> Future.succeededFuture(new ModelManager<>(vertx, registry, loader, host, loads,
        new ManagerOptions(2, 10, false, 1L << 30, ModelConfig.Paging.PINNED), meters)));
  }

  @AfterEach
  void stop() throws Exception {
    await(vertx.close());
  }

  @Test
  void servesANewVersionBeforeTheOldOneLeaves() throws Exception {
    version("a", 1);
    apply("a");
    assertThat(events).containsExactly("load 1", "serve 1", "available 1");

    version("a", 2);
    onContext(manager::pollFileSystem);
    assertThat(events).containsSubsequence("load 2", "serve 2", "available 2", "stop 1", "close 1");
    assertThat(states()).containsExactly(Map.entry(2L, State.AVAILABLE));
  }

  @Test
  void eachVersionsFootprintIsPublishedAndCountedUntilItIsUnloaded() throws Exception {
    version("a", 1);
    apply("a");
    assertThat(registry.snapshot().model("m").orElseThrow().versions().get(1L).memoryBytes()).isEqualTo(1000);
    assertThat(meters.get("infergate.worker.memory.used").gauge().value()).isEqualTo(1000);
    assertThat(meters.get("infergate.worker.memory.budget").gauge().value()).isEqualTo(1L << 30);
    assertThat(meters.get("infergate.model.memory").tag("version", "1").gauge().value()).isEqualTo(1000);

    version("a", 2);
    onContext(manager::pollFileSystem);
    assertThat(meters.get("infergate.worker.memory.used").gauge().value()).as("version 1 freed").isEqualTo(2000);
    assertThat(meters.find("infergate.model.memory").tag("version", "1").gauge()).isNull();
  }

  @Test
  void aVersionThatFailsToLoadLeavesTheServingOneAloneAfterItsRetries() throws Exception {
    version("a", 1);
    apply("a");
    version("a", 2);
    failures.put(2L, new AtomicInteger(100));
    onContext(manager::pollFileSystem);
    assertThat(events.stream().filter("load 2"::equals)).as("a first attempt and two retries").hasSize(3);
    assertThat(events).doesNotContain("stop 1", "close 1");
    ServableRecord failed = registry.snapshot().model("m").orElseThrow().versions().get(2L);
    assertThat(failed.errorMessage()).contains("corrupt");
    assertThat(registry.snapshot().model("m").orElseThrow().latestAvailable().orElseThrow().id().version()).isEqualTo(1);
  }

  @Test
  void aVersionWhoseFreeingFailsIsForgottenAllTheSame() throws Exception {
    version("a", 1);
    apply("a");
    closeFails = true;
    version("a", 2);
    onContext(manager::pollFileSystem);
    assertThat(events).containsSubsequence("available 2", "stop 1", "close 1");
    assertThat(states()).as("not left UNLOADING").containsExactly(Map.entry(2L, State.AVAILABLE));
    assertThat(meters.get("infergate.worker.memory.used").gauge().value()).isEqualTo(2000);
  }

  @Test
  void aRetrySucceedsAfterFailedAttempts() throws Exception {
    version("a", 1);
    failures.put(1L, new AtomicInteger(2));
    apply("a");
    assertThat(events).containsExactly("load 1", "load 1", "load 1", "serve 1", "available 1");
  }

  @Test
  void aServableThatLoadedButCouldNotServeIsClosed() throws Exception {
    version("a", 1);
    hostRefuses = true;
    apply("a");
    assertThat(events).containsExactly("load 1", "close 1");
    assertThat(states()).containsExactly(Map.entry(1L, State.END));
  }

  @Test
  void aNewBasePathLoadsItsVersionsFromThere() throws Exception {
    version("a", 1);
    apply("a");
    Path moved = version("b", 1);
    apply("b");
    // The same version number from elsewhere: the old one gives way (the id is one), the new one loads.
    assertThat(events).containsSubsequence("serve 1", "stop 1", "close 1", "load 1", "serve 1");
    assertThat(loadedFrom.get(1L)).isEqualTo(moved);
    assertThat(states()).containsExactly(Map.entry(1L, State.AVAILABLE));
  }

  @Test
  void anOperatorsPinsAreAppliedAndOutliveAConfigApply() throws Exception {
    version("a", 1);
    version("a", 2);
    apply("a");
    assertThat(states()).containsOnlyKeys(2L);

    await(registry.updateOverrides("m", overrides -> overrides.toBuilder().putPins(1L, true).build()));
    awaitCondition(() -> states().get(1L) == State.AVAILABLE);
    apply("a");
    assertThat(states()).containsOnlyKeys(1L, 2L);

    await(registry.updateOverrides("m", overrides -> overrides.toBuilder().putPins(2L, false).build()));
    awaitCondition(() -> !states().containsKey(2L));
    assertThat(events).containsSubsequence("stop 2", "close 2");
    assertThat(states()).containsOnlyKeys(1L);
  }

  private Path version(String base, long version) throws Exception {
    return Files.createDirectories(models.resolve(base).resolve(Long.toString(version)));
  }

  private void apply(String base) throws Exception {
    ModelServerConfig config = ModelServerConfigs.singleModel("m", models.resolve(base).toString());
    onContext(() -> manager.apply(config, true));
  }

  private Map<Long, State> states() {
    Map<Long, State> states = new java.util.TreeMap<>();
    registry.snapshot().model("m").ifPresent(model ->
        model.versions().forEach((version, record) -> states.put(version, record.state())));
    return states;
  }

  private <T> T onContext(Supplier<Future<T>> work) throws Exception {
    return OnContext.run(context, work);
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static void awaitCondition(java.util.function.BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within 30 s");
      }
      Thread.sleep(10);
    }
  }
}
