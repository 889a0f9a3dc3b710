package io.infergate.worker.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.infergate.common.ServableId;
import io.infergate.common.registry.LocalModelRegistry;
import io.infergate.common.registry.ServableRecord;
import io.infergate.proto.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy;
import io.infergate.proto.serving.ModelConfig;
import io.infergate.proto.serving.ModelConfigList;
import io.infergate.proto.serving.ModelServerConfig;
import io.infergate.proto.serving.SignatureDefMap;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Paging by memory over a real {@link ModelManager} with a loader whose versions hold a known
 * number of bytes (the version number times 1000) and a host whose requests in flight and last
 * uses the test sets.
 */
class PagedModelsTest {

  private static final long BUDGET = 5_000;

  @TempDir
  Path models;

  Vertx vertx;
  Context context;
  WorkerExecutor loads;
  final List<String> events = Collections.synchronizedList(new ArrayList<>());
  final Map<String, Integer> inFlight = new ConcurrentHashMap<>();
  final Map<String, Long> lastUsed = new ConcurrentHashMap<>();
  final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  /** While set, loads wait for it: to hold a load open while more requests arrive. */
  volatile CountDownLatch loadGate;
  final LocalModelRegistry registry = new LocalModelRegistry();
  ModelManager<Sized> manager;
  PagedModels paging;

  record Sized(ServableId id, List<String> events) implements LoadedServable {
    @Override
    public SignatureDefMap signatures() {
      return SignatureDefMap.getDefaultInstance();
    }

    @Override
    public long memoryBytes() {
      return id.version() * 1000;
    }

    @Override
    public String describe() {
      return "sized";
    }

    @Override
    public void close() {
      events.add("unload " + id.name());
    }
  }

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
    loads = vertx.createSharedWorkerExecutor("test-load", 2);
    Loader<Sized> loader = (id, directory) -> {
      CountDownLatch gate = loadGate;
      if (gate != null) {
        gate.await(10, TimeUnit.SECONDS);
      }
      events.add("load " + id.name());
      return new Sized(id, events);
    };
    ServableHost<Sized> host = new ServableHost<>() {
      @Override
      public Future<Void> serve(Sized servable) {
        return Future.succeededFuture();
      }

      @Override
      public Future<Void> stopServing(ServableId id) {
        return Future.succeededFuture();
      }

      @Override
      public int requestsInFlight(String model) {
        return inFlight.getOrDefault(model, 0);
      }

      @Override
      public long lastUsedNanos(String model) {
        return lastUsed.getOrDefault(model, 0L);
      }
    };
    ManagerOptions options = new ManagerOptions(0, 10, false, BUDGET, ModelConfig.Paging.PAGEABLE);
    manager = onContext(() -> Future.succeededFuture(new ModelManager<>(vertx, registry, loader, host, loads, options,
        meters)));
    paging = new PagedModels(vertx, manager, registry, host, LocalModelRegistry.LOCAL_WORKER, BUDGET,
        ModelConfig.Paging.PAGEABLE, meters);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  void pinnedModelsLoadAtOncePageableOnesOnTheirFirstRequest() throws Exception {
    apply(model("hot", 1, ModelConfig.Paging.PINNED), model("cold", 2, ModelConfig.Paging.PAGING_DEFAULT));
    assertThat(events).containsExactly("load hot");
    assertThat(paging.pageableModels()).containsExactly("cold");

    onContext(() -> paging.pageIn("cold"));
    assertThat(events).containsExactly("load hot", "load cold");
    onContext(() -> paging.pageIn("cold"));
    assertThat(events).as("already resident").hasSize(2);
    assertThat(meters.get("infergate.paging.loads").counter().count()).isEqualTo(1);
    assertThat(meters.get("infergate.paging.cold_start").timer().count()).isEqualTo(1);
    assertThatThrownBy(() -> onContext(() -> paging.pageIn("nowhere"))).hasMessageContaining("no model nowhere");
  }

  @Test
  void pageableModelsThatAreNotLoadedAreAdvertisedWithTheRoomLeft() throws Exception {
    apply(model("hot", 1, ModelConfig.Paging.PINNED), model("cold", 2, null));
    ServableRecord advertised = registry.snapshot().model("cold").orElseThrow().versions().get(2L);
    assertThat(advertised.isPageable()).isTrue();
    assertThat(advertised.pageableOn()).containsExactly(Map.entry(LocalModelRegistry.LOCAL_WORKER, BUDGET - 1000));
    assertThat(registry.snapshot().allModelsSettled()).as("a pageable model can serve on demand").isTrue();

    pageIn("cold");
    assertThat(registry.snapshot().model("cold").orElseThrow().versions().get(2L).isAvailable()).isTrue();

    apply(model("hot", 1, ModelConfig.Paging.PINNED));
    assertThat(registry.snapshot().model("cold")).as("gone from the config, gone from the registry").isEmpty();
  }

  @Test
  void concurrentRequestsForAColdModelWaitOnOneLoad() throws Exception {
    apply(model("cold", 2, ModelConfig.Paging.PAGEABLE));
    loadGate = new CountDownLatch(1);
    List<Future<Void>> waiting = new ArrayList<>();
    onContext(() -> {
      for (int i = 0; i < 5; i++) {
        waiting.add(paging.pageIn("cold"));
      }
      return Future.succeededFuture();
    });
    loadGate.countDown();
    onContext(() -> Future.all(waiting));
    assertThat(events).containsExactly("load cold");
  }

  @Test
  void theLeastRecentlyUsedIdleModelLeavesWhenALoadNeedsRoom() throws Exception {
    apply(model("a", 2, null), model("b", 2, null), model("c", 3, null));
    pageIn("a");
    pageIn("b");
    lastUsed.put("a", 200L);
    lastUsed.put("b", 100L);
    // c's size is unknown until it loads (3000): 7000 then exceeds the budget, and b, used longest ago, leaves.
    pageIn("c");
    assertThat(events).containsExactly("load a", "load b", "load c", "unload b");
    assertThat(manager.heldBytes()).isEqualTo(5000);

    // b is known now (2000): room is made before it loads, from a (used before c).
    lastUsed.put("c", 300L);
    pageIn("b");
    assertThat(events).endsWith("unload a", "load b");
    assertThat(manager.heldBytes()).isEqualTo(5000);
    assertThat(meters.get("infergate.paging.evictions").counter().count()).isEqualTo(2);
  }

  @Test
  void aModelServingARequestAndAPinnedModelAreNeverEvicted() throws Exception {
    apply(model("pinned", 2, ModelConfig.Paging.PINNED), model("a", 2, null), model("b", 2, null),
        model("d", 2, null));
    pageIn("a");
    inFlight.put("a", 1);
    pageIn("b");
    assertThat(events).as("over budget, but nothing it may evict").doesNotContain("unload a", "unload pinned");
    assertThat(manager.heldBytes()).isEqualTo(6000);

    pageIn("d");
    assertThat(events).as("already over budget: b, idle, leaves first").endsWith("unload b", "load d");

    // Every resident pageable model busy, b's size known: no room, and b is not loaded past the budget.
    inFlight.put("d", 1);
    assertThatThrownBy(() -> pageIn("b")).hasMessageContaining("No room");
    assertThat(events).doesNotContain("unload a", "unload d", "unload pinned").filteredOn("load b"::equals).hasSize(1);
    assertThat(manager.serves("pinned")).isTrue();
    assertThat(manager.serves("b")).isFalse();
  }

  private void pageIn(String model) throws Exception {
    onContext(() -> paging.pageIn(model));
  }

  private ModelConfig model(String name, long version, ModelConfig.Paging paging) throws Exception {
    Files.createDirectories(models.resolve(name).resolve(Long.toString(version)));
    ModelConfig.Builder config = ModelConfig.newBuilder().setName(name).setBasePath(models.resolve(name).toString())
        .setModelPlatform("tensorflow")
        .setModelVersionPolicy(ServableVersionPolicy.newBuilder()
            .setLatest(ServableVersionPolicy.Latest.newBuilder().setNumVersions(1)));
    return paging == null ? config.build() : config.setPaging(paging).build();
  }

  private static ModelServerConfig config(ModelConfig... models) {
    return ModelServerConfig.newBuilder().setModelConfigList(ModelConfigList.newBuilder().addAllConfig(List.of(models)))
        .build();
  }

  private void apply(ModelConfig... models) throws Exception {
    onContext(() -> paging.apply(config(models), true));
  }

  private <T> T onContext(Supplier<Future<T>> work) throws Exception {
    return OnContext.run(context, work);
  }
}
