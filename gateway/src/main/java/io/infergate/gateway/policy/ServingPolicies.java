package io.infergate.gateway.policy;

import io.infergate.common.Priority;
import io.infergate.common.config.ConfigException;
import io.infergate.common.registry.ModelRegistry;
import io.infergate.proto.policy.ModelPolicy;
import io.infergate.proto.policy.Quota;
import io.infergate.proto.policy.CachePolicy;
import io.infergate.proto.policy.ServingPolicy;
import io.infergate.proto.registry.ModelOverrides;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The serving policy in force for each model: an operator's, set through the admin API and kept
 * in the registry's overrides (so every gateway has it), else the policy file's, else none.
 * Reading it costs two map lookups and never blocks.
 */
public final class ServingPolicies {

  public static final String DEFAULT_TENANT_HEADER = "x-infergate-tenant";
  /** Longer tenant names are refused: they are client input and become map keys and metric tags. */
  public static final int MAX_TENANT_LENGTH = 128;

  private final ModelRegistry registry;
  private volatile FilePolicy file = new FilePolicy(ServingPolicy.getDefaultInstance(), Map.of());

  private record FilePolicy(ServingPolicy policy, Map<String, ModelPolicy> byModel) {}

  public ServingPolicies(ModelRegistry registry) {
    this.registry = registry;
  }

  /** Takes a policy file's content; it must have been {@linkplain #validated validated}. */
  public void useFile(ServingPolicy policy) {
    Map<String, ModelPolicy> byModel = new HashMap<>();
    policy.getModelsList().forEach(model -> byModel.put(model.getModel(), model));
    file = new FilePolicy(policy, Map.copyOf(byModel));
  }

  /** The policy of a model; the empty policy (normal priority, no quota, no cache) when none is set. */
  public ModelPolicy forModel(String model) {
    ModelOverrides overrides = registry.snapshot().overrides().get(model);
    if (overrides != null && overrides.hasPolicy()) {
      return overrides.getPolicy();
    }
    ModelPolicy fromFile = file.byModel().get(model);
    return fromFile != null ? fromFile : ModelPolicy.getDefaultInstance();
  }

  /** Where the policy comes from for a model: "admin", "file" or "none". */
  public String sourceOf(String model) {
    ModelOverrides overrides = registry.snapshot().overrides().get(model);
    if (overrides != null && overrides.hasPolicy()) {
      return "admin";
    }
    return file.byModel().containsKey(model) ? "file" : "none";
  }

  /** The header whose value names a request's tenant, in lower case. */
  public String tenantHeader() {
    String header = file.policy().getTenantHeader();
    return header.isEmpty() ? DEFAULT_TENANT_HEADER : header.toLowerCase(Locale.ROOT);
  }

  /** The model's priority for requests that name none. */
  public static Priority defaultPriority(ModelPolicy policy) {
    return Priority.ofLevel(policy.getDefaultPriorityValue(), Priority.NORMAL);
  }

  /** Checks a whole policy (file or admin) before it is used; fails with what is wrong. */
  public static ServingPolicy validated(ServingPolicy policy) {
    if (!policy.getTenantHeader().isEmpty() && !policy.getTenantHeader().matches("[A-Za-z0-9-]{1,64}")) {
      throw new ConfigException("tenant_header must be a header name (letters, digits and '-'): '"
          + policy.getTenantHeader() + "'");
    }
    Set<String> seen = new HashSet<>();
    for (ModelPolicy model : policy.getModelsList()) {
      if (model.getModel().isEmpty()) {
        throw new ConfigException("Every model policy needs a model name");
      }
      if (!seen.add(model.getModel())) {
        throw new ConfigException("Model " + model.getModel() + " has more than one policy");
      }
      validated(model);
    }
    return policy;
  }

  /** Checks one model's policy; fails with what is wrong. */
  public static ModelPolicy validated(ModelPolicy policy) {
    String model = "Model " + policy.getModel() + ": ";
    try {
      defaultPriority(policy);
    } catch (RuntimeException e) {
      throw new ConfigException(model + "default_priority is not one of HIGH, NORMAL, LOW");
    }
    check(model + "quota", policy.getQuota());
    check(model + "other_tenants", policy.getOtherTenants());
    policy.getTenantsMap().forEach((tenant, quota) -> {
      if (tenant.isEmpty() || tenant.length() > MAX_TENANT_LENGTH) {
        throw new ConfigException(model + "tenant names need 1 to " + MAX_TENANT_LENGTH + " characters");
      }
      check(model + "tenant " + tenant, quota);
    });
    CachePolicy cache = policy.getCache();
    if (cache.getTtlMillis() < 0 || cache.getMaxBytes() < 0) {
      throw new ConfigException(model + "cache ttl_millis and max_bytes must not be negative");
    }
    return policy;
  }

  private static void check(String what, Quota quota) {
    double rate = quota.getRequestsPerSecond();
    if (!(rate >= 0) || Double.isInfinite(rate) || quota.getBurst() < 0) {
      throw new ConfigException(what + ": requests_per_second and burst must be finite and not negative");
    }
    if (rate == 0 && quota.getBurst() > 0) {
      throw new ConfigException(what + ": a burst needs requests_per_second");
    }
  }

  /** Changes of one model's policy through the admin API, as a registry override. */
  public static UnaryOperator<ModelOverrides> setting(ModelPolicy policy) {
    return overrides -> overrides.toBuilder().setPolicy(policy).build();
  }

  public static UnaryOperator<ModelOverrides> clearing() {
    return overrides -> overrides.toBuilder().clearPolicy().build();
  }
}
