package io.infergate.gateway.policy;

import io.infergate.common.metrics.MetricNames;
import io.infergate.common.status.ServingException;
import io.infergate.proto.policy.ModelPolicy;
import io.infergate.proto.policy.Quota;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Enforces a model's quotas on each request: its tenant's (a named tenant's own, or the one all
 * other tenants share) and then the model's, so a tenant past its own quota never uses up the
 * model's. Each quota is a token bucket of this gateway that leases tokens from the cluster's
 * {@link QuotaBudget} a tenth of a second's worth at a time, ahead of need: a request waits for
 * the budget only when its bucket ran dry. A request beyond a quota fails at once with
 * RESOURCE_EXHAUSTED (HTTP 429) and the time its quota has room again.
 */
public final class Quotas {

  /** The share of a second's tokens one lease takes. */
  static final double LEASE_SECONDS = 0.1;
  private static final Future<Void> ADMITTED = Future.succeededFuture();

  private final QuotaBudget budget;
  private final MeterRegistry meters;
  private final Map<String, ModelBuckets> models = new ConcurrentHashMap<>();

  public Quotas(QuotaBudget budget, MeterRegistry meters) {
    this.budget = budget;
    this.meters = meters;
  }

  /** Whether any quota applies to a model's requests. */
  public static boolean appliesTo(ModelPolicy policy) {
    return policy.getQuota().getRequestsPerSecond() > 0 || policy.getOtherTenants().getRequestsPerSecond() > 0
        || policy.getTenantsCount() > 0;
  }

  /**
   * Takes a token from each quota the request falls under.
   *
   * @param tenant the request's tenant, or null when it names none
   */
  public Future<Void> admit(String model, ModelPolicy policy, String tenant) {
    ModelBuckets buckets = models.get(model);
    if (buckets == null) {
      buckets = models.computeIfAbsent(model, ModelBuckets::new);
    }
    Quota named = tenant == null ? null : policy.getTenantsMap().get(tenant);
    Future<Void> tenantTaken = ADMITTED;
    if (named != null && named.getRequestsPerSecond() > 0) {
      tenantTaken = buckets.tenant(tenant).take(named);
    } else if (named == null && policy.getOtherTenants().getRequestsPerSecond() > 0) {
      tenantTaken = buckets.others.take(policy.getOtherTenants());
    }
    if (policy.getQuota().getRequestsPerSecond() <= 0) {
      return tenantTaken;
    }
    LeasedBucket own = buckets.own;
    return tenantTaken == ADMITTED ? own.take(policy.getQuota())
        : tenantTaken.compose(v -> own.take(policy.getQuota()));
  }

  /** One model's buckets: its own quota's, the other tenants', and each named tenant's as it is first used. */
  private final class ModelBuckets {
    private final String model;
    final LeasedBucket own;
    final LeasedBucket others;
    private final Map<String, LeasedBucket> tenants = new ConcurrentHashMap<>();

    ModelBuckets(String model) {
      this.model = model;
      own = new LeasedBucket(model + "\u0000*", model, "*", "model " + model);
      others = new LeasedBucket(model + "\u0000other", model, "other",
          "model " + model + "'s tenants without a quota of their own");
    }

    LeasedBucket tenant(String tenant) {
      LeasedBucket bucket = tenants.get(tenant);
      return bucket != null ? bucket : tenants.computeIfAbsent(tenant, named ->
          new LeasedBucket(model + "\u0000tenant:" + named, model, named, "tenant " + named + " of model " + model));
    }
  }

  /** This gateway's share of one quota: tokens leased from the budget, and the lease under way. */
  private final class LeasedBucket {
    /** The bucket's name in the budget. */
    private final String key;
    private final String description;
    private final Counter rejected;
    private double tokens;
    private Future<Void> leasing;
    /** Set when the budget had nothing: until then, requests are refused without asking it again. */
    private long emptyUntilMillis;

    LeasedBucket(String key, String model, String tenantLabel, String description) {
      this.key = key;
      this.description = description;
      this.rejected = Counter.builder(MetricNames.QUOTA_REJECTED).tag("model", model).tag("tenant", tenantLabel)
          .description("Requests refused because a quota was spent; tenant * is the model's own quota")
          .register(meters);
    }

    Future<Void> take(Quota quota) {
      Future<Void> lease;
      synchronized (this) {
        if (tokens >= 1) {
          tokens--;
          if (tokens < leaseSize(quota) / 2.0 && leasing == null) {
            lease(quota);
          }
          return ADMITTED;
        }
        long wait = emptyUntilMillis - System.currentTimeMillis();
        if (leasing == null && wait > 0) {
          return refused(wait);
        }
        lease = leasing != null ? leasing : lease(quota);
      }
      // Back on the caller's own context: the lease may complete on another thread.
      Context context = Vertx.currentContext();
      Promise<Void> taken = Promise.promise();
      lease.onComplete(done -> {
        if (context == null) {
          takeLeased(taken);
        } else {
          context.runOnContext(v -> takeLeased(taken));
        }
      });
      return taken.future();
    }

    private void takeLeased(Promise<Void> taken) {
      long wait;
      synchronized (this) {
        if (tokens >= 1) {
          tokens--;
          taken.complete();
          return;
        }
        wait = Math.max(1, emptyUntilMillis - System.currentTimeMillis());
      }
      taken.fail(refusal(wait));
    }

    /** Caller holds this bucket's lock. */
    private Future<Void> lease(Quota quota) {
      Promise<Void> done = Promise.promise();
      leasing = done.future();
      budget.lease(key, quota, leaseSize(quota)).onComplete(result -> {
        synchronized (this) {
          QuotaBudget.Grant grant = result.succeeded() ? result.result() : new QuotaBudget.Grant(0, 100);
          tokens += grant.tokens();
          emptyUntilMillis = grant.tokens() > 0 ? 0 : System.currentTimeMillis() + grant.retryAfterMillis();
          leasing = null;
        }
        done.complete();
      });
      return done.future();
    }

    private Future<Void> refused(long waitMillis) {
      return Future.failedFuture(refusal(waitMillis));
    }

    private ServingException refusal(long waitMillis) {
      rejected.increment();
      return ServingException.quotaExceeded("Quota exceeded for " + description + "; retry after "
          + Math.max(1, (waitMillis + 999) / 1000) + " s", waitMillis);
    }
  }

  private static long leaseSize(Quota quota) {
    return Math.max(1, Math.min(QuotaBudget.capacity(quota), (long) Math.ceil(quota.getRequestsPerSecond() * LEASE_SECONDS)));
  }
}
