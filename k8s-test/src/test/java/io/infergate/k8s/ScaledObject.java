package io.infergate.k8s;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerBehavior;
import java.util.List;
import java.util.Map;

/**
 * KEDA's ScaledObject (keda.sh/v1alpha1), the fields of its documented spec that a scaler on
 * Prometheus uses; read with unknown fields refused, so a misspelled one fails.
 */
record ScaledObject(String apiVersion, String kind, ObjectMeta metadata, Spec spec) {

  record Spec(Target scaleTargetRef, Integer minReplicaCount, Integer maxReplicaCount, Integer idleReplicaCount,
              Integer pollingInterval, Integer cooldownPeriod, Advanced advanced, List<Trigger> triggers) {}

  record Target(String apiVersion, String kind, String name, String envSourceContainerName) {}

  record Advanced(HpaConfig horizontalPodAutoscalerConfig, Boolean restoreToOriginalReplicaCount) {}

  record HpaConfig(String name, HorizontalPodAutoscalerBehavior behavior) {}

  record Trigger(String type, String name, String metricType, Boolean useCachedMetrics, Map<String, String> metadata,
                 Map<String, String> authenticationRef) {}
}
