package io.infergate.gateway.policy;

import com.hazelcast.core.HazelcastInstance;
import io.infergate.common.config.TextProtoFiles;
import io.infergate.common.registry.ModelRegistry;
import io.infergate.gateway.cache.ResponseCache;
import io.infergate.gateway.features.RedisFeatureStore;
import io.infergate.proto.policy.ServingPolicy;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What applies each model's serving policy, shared by a process's gateways: the policies in
 * force, the quotas (cluster-wide through Hazelcast when the process is a member), and the
 * response cache (with its shared Redis store, if any). The policy file is read again every
 * poll; a file that no longer parses or validates is logged and the last good one stays.
 */
public record PolicyServices(ServingPolicies policies, Quotas quotas, ResponseCache cache, Runnable onClose) {

  private static final Logger LOG = LoggerFactory.getLogger(PolicyServices.class);
  /** Time a shared cache lookup or store may take in Redis. */
  private static final Duration REDIS_TIMEOUT = Duration.ofMillis(ResponseCache.SHARED_LOOKUP_MILLIS * 5);

  /**
   * Reads the policy file and connects to the shared cache's Redis: blocks, so call it off the event loop.
   *
   * @param cluster this process's cluster member, or null for a single-process server
   * @throws io.infergate.common.config.ConfigException when the file does not parse or validate
   */
  public static PolicyServices open(Vertx vertx, PolicyOptions options, ModelRegistry registry,
                                    HazelcastInstance cluster, MeterRegistry meters) {
    ServingPolicies policies = new ServingPolicies(registry);
    if (options.file() != null) {
      ServingPolicy initial = read(options.file());
      policies.useFile(initial);
      if (options.filePollSeconds() > 0) {
        watch(vertx, options.file(), options.filePollSeconds(), policies, initial);
      }
    }
    QuotaBudget budget = cluster == null ? new LocalQuotaBudget()
        : new HazelcastQuotaBudget(cluster, vertx.createSharedWorkerExecutor("infergate-quota", 2));
    RedisFeatureStore shared = options.responseCacheRedis() == null ? null
        : new RedisFeatureStore(vertx, options.responseCacheRedis(), REDIS_TIMEOUT);
    return new PolicyServices(policies, new Quotas(budget, meters), new ResponseCache(registry, shared, meters),
        shared == null ? () -> { } : shared::close);
  }

  /** A policy file, parsed and validated. */
  public static ServingPolicy read(Path file) {
    return ServingPolicies.validated(TextProtoFiles.read(file, ServingPolicy.getDefaultInstance()));
  }

  private static void watch(Vertx vertx, Path file, int pollSeconds, ServingPolicies policies, ServingPolicy initial) {
    ServingPolicy[] last = {initial};
    vertx.setPeriodic(pollSeconds * 1000L, id -> vertx.executeBlocking(() -> read(file), false)
        .onFailure(failure -> LOG.error("Keeping the serving policy in force: {} does not apply: {}", file,
            failure.getMessage()))
        .onSuccess(policy -> {
          if (!policy.equals(last[0])) {
            LOG.info("Serving policy {} changed; applying it", file);
            last[0] = policy;
            policies.useFile(policy);
          }
        }));
  }

  public void close() {
    onClose.run();
  }
}
