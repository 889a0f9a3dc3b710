package io.infergate.gateway;

import io.infergate.common.bus.LocalServables;
import io.infergate.common.registry.ModelRegistry;
import io.infergate.gateway.admission.Admission;
import io.infergate.gateway.dispatch.ColdStarts;
import io.infergate.gateway.features.FeatureEnricher;
import io.infergate.gateway.policy.PolicyServices;
import io.infergate.gateway.readiness.Warmth;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * What all gateway verticles of one process share.
 *
 * @param prometheus the process's metrics
 * @param features the feature enricher, or null when no model takes features
 * @param local the servables of this process's worker, called without the event bus (none in a gateway-only process)
 * @param drain whether the process is shutting down (then not ready)
 * @param warmth whether the request path has been warmed up (until then not ready)
 * @param admission the process's budget of connections, requests and request memory
 * @param coldStarts the loads of pageable models this process's requests are waiting for
 * @param policy each model's priority, quotas and response cache
 */
public record SharedServices(ModelRegistry registry, PrometheusMeterRegistry prometheus, FeatureEnricher features,
                             LocalServables local, Drain drain, Warmth warmth, Admission admission, ColdStarts coldStarts,
                             PolicyServices policy) {}
