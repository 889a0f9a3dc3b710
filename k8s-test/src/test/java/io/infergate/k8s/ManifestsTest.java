package io.infergate.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.openshift.api.model.monitoring.v1.PodMonitor;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What an API server and a careful reviewer would check of every kustomization users apply,
 * without a cluster: each test renders with kubectl, parses strictly, and follows every reference.
 */
class ManifestsTest {

  private static final String KUSTOMIZATIONS = "io.infergate.k8s.Manifests#kustomizations";
  private static final String VERSION_LABEL = "app.kubernetes.io/version";
  private static final Set<String> SUBCOMMANDS = Set.of("serve", "gateway", "worker");
  /** Secrets the operator creates (the README says how); nothing in the manifests carries secret values. */
  private static final Set<String> OPERATOR_SECRETS = Set.of("infergate-credentials", "infergate-bus-tls");
  private static final Set<String> PROBE_PATHS = Set.of("/healthz", "/readyz");
  private static final Map<String, Set<String>> FLAGS = new HashMap<>();

  @ParameterizedTest
  @MethodSource(KUSTOMIZATIONS)
  void rendersGatewaysAndWorkers(String kustomization) {
    Manifests manifests = Manifests.of(kustomization);
    assertThat(manifests.deployments()).extracting(ManifestsTest::subcommand).contains("gateway", "worker");
  }

  @ParameterizedTest
  @MethodSource(KUSTOMIZATIONS)
  void selectorsPickTheirOwnPodsAndLeaveTheVersionOut(String kustomization) {
    Manifests manifests = Manifests.of(kustomization);
    for (Deployment deployment : manifests.deployments()) {
      Map<String, String> selector = deployment.getSpec().getSelector().getMatchLabels();
      assertThat(selector).as(deployment.getMetadata().getName()).doesNotContainKey(VERSION_LABEL);
      assertThat(manifests.selecting(selector)).as("pods of " + name(deployment)).containsExactly(deployment);
      assertThat(deployment.getSpec().getTemplate().getMetadata().getLabels())
          .containsKeys("app.kubernetes.io/name", "app.kubernetes.io/component", "app.kubernetes.io/part-of",
              VERSION_LABEL);
      var spreads = deployment.getSpec().getTemplate().getSpec().getTopologySpreadConstraints();
      assertThat(spreads).as(name(deployment) + " spreads over zones and nodes")
          .extracting(spread -> spread.getTopologyKey())
          .containsExactlyInAnyOrder("topology.kubernetes.io/zone", "kubernetes.io/hostname");
      spreads.forEach(spread -> assertThat(manifests.selecting(spread.getLabelSelector().getMatchLabels()))
          .as(name(deployment) + " spreads its own pods").containsExactly(deployment));
    }
    for (Service service : manifests.all(Service.class)) {
      assertThat(service.getSpec().getSelector()).as(name(service)).doesNotContainKey(VERSION_LABEL);
      assertThat(manifests.selecting(service.getSpec().getSelector())).as(name(service)).isNotEmpty();
    }
    for (PodDisruptionBudget budget : manifests.all(PodDisruptionBudget.class)) {
      Map<String, String> selector = budget.getSpec().getSelector().getMatchLabels();
      assertThat(selector).as(name(budget)).doesNotContainKey(VERSION_LABEL);
      assertThat(manifests.selecting(selector)).as(name(budget)).hasSize(1);
    }
    for (NetworkPolicy policy : manifests.all(NetworkPolicy.class)) {
      assertThat(manifests.selecting(policy.getSpec().getPodSelector().getMatchLabels())).as(name(policy)).isNotEmpty();
    }
    for (PodMonitor monitor : manifests.all(PodMonitor.class)) {
      assertThat(manifests.selecting(monitor.getSpec().getSelector().getMatchLabels())).as(name(monitor)).isNotEmpty();
    }
    for (Object object : manifests.objects) {
      Map<String, String> labels = object instanceof HasMetadata meta ? meta.getMetadata().getLabels()
          : ((ScaledObject) object).metadata().getLabels();
      assertThat(labels).as("labels of " + object.getClass().getSimpleName()).containsEntry("app.kubernetes.io/name",
          "infergate");
    }
  }

  @ParameterizedTest
  @MethodSource(KUSTOMIZATIONS)
  void everyNamedPortExistsOnThePodsItNames(String kustomization) {
    Manifests manifests = Manifests.of(kustomization);
    for (Service service : manifests.all(Service.class)) {
      for (Deployment deployment : manifests.selecting(service.getSpec().getSelector())) {
        service.getSpec().getPorts().forEach(port -> assertThat(portNames(deployment))
            .as(name(service) + " port " + port.getName() + " on " + name(deployment))
            .contains(port.getTargetPort().getStrVal()));
      }
    }
    for (PodMonitor monitor : manifests.all(PodMonitor.class)) {
      for (Deployment deployment : manifests.selecting(monitor.getSpec().getSelector().getMatchLabels())) {
        monitor.getSpec().getPodMetricsEndpoints().forEach(endpoint ->
            assertThat(portNames(deployment)).as(name(monitor) + " on " + name(deployment)).contains(endpoint.getPort()));
      }
    }
    for (NetworkPolicy policy : manifests.all(NetworkPolicy.class)) {
      List<String> ports = policy.getSpec().getIngress().stream().flatMap(rule -> rule.getPorts().stream())
          .map(NetworkPolicyPort::getPort).map(IntOrString::getStrVal).toList();
      for (Deployment deployment : manifests.selecting(policy.getSpec().getPodSelector().getMatchLabels())) {
        assertThat(portNames(deployment)).as(name(policy) + " on " + name(deployment)).containsAll(ports);
      }
    }
  }

  @ParameterizedTest
  @MethodSource(KUSTOMIZATIONS)
  void everyDeploymentHasExactlyOneScalerAndEveryScalerATarget(String kustomization) {
    Manifests manifests = Manifests.of(kustomization);
    List<String> targets = new ArrayList<>();
    for (HorizontalPodAutoscaler hpa : manifests.all(HorizontalPodAutoscaler.class)) {
      var target = hpa.getSpec().getScaleTargetRef();
      assertThat(target.getApiVersion() + "/" + target.getKind()).isEqualTo("apps/v1/Deployment");
      targets.add(target.getName());
    }
    for (ScaledObject scaler : manifests.all(ScaledObject.class)) {
      var target = scaler.spec().scaleTargetRef();
      assertThat(target.apiVersion() + "/" + target.kind()).isEqualTo("apps/v1/Deployment");
      assertThat(scaler.spec().triggers()).as(scaler.metadata().getName()).allSatisfy(trigger -> {
        assertThat(trigger.type()).isEqualTo("prometheus");
        assertThat(trigger.metadata()).containsKeys("serverAddress", "query", "threshold");
        assertThat(Set.of("serverAddress", "query", "threshold", "activationThreshold", "namespace",
            "ignoreNullValues", "unsafeSsl", "customHeaders", "queryParameters")).containsAll(trigger.metadata().keySet());
      });
      targets.add(target.name());
    }
    assertThat(targets).as("one scaler per Deployment, each naming one that exists")
        .containsExactlyInAnyOrderElementsOf(manifests.deployments().stream().map(ManifestsTest::name).toList());
  }

  @ParameterizedTest
  @MethodSource(KUSTOMIZATIONS)
  void everyPodMeetsTheRestrictedProfileAndEveryContainerIsSized(String kustomization) {
    for (Deployment deployment : Manifests.of(kustomization).deployments()) {
      PodSpec pod = deployment.getSpec().getTemplate().getSpec();
      String where = name(deployment);
      assertThat(pod.getSecurityContext().getRunAsNonRoot()).as(where).isTrue();
      assertThat(pod.getSecurityContext().getRunAsUser()).as(where).isPositive();
      assertThat(pod.getSecurityContext().getSeccompProfile().getType()).as(where).isEqualTo("RuntimeDefault");
      assertThat(pod.getHostNetwork()).as(where).isNotEqualTo(Boolean.TRUE);
      assertThat(pod.getAutomountServiceAccountToken()).as(where + ": the token only where discovery asks the API")
          .isEqualTo(pod.getServiceAccountName() != null);
      for (Container container : Stream.concat(pod.getInitContainers().stream(), pod.getContainers().stream()).toList()) {
        var security = container.getSecurityContext();
        assertThat(security.getAllowPrivilegeEscalation()).as(where).isFalse();
        assertThat(security.getReadOnlyRootFilesystem()).as(where).isTrue();
        assertThat(security.getCapabilities().getDrop()).as(where).containsExactly("ALL");
        assertThat(security.getCapabilities().getAdd()).as(where).isEmpty();
        assertThat(security.getPrivileged()).as(where).isNotEqualTo(Boolean.TRUE);
        Map<String, Quantity> requests = container.getResources().getRequests();
        Map<String, Quantity> limits = container.getResources().getLimits();
        assertThat(requests).as(where + " requests").containsKeys("cpu", "memory");
        assertThat(limits).as(where + " limits").containsKeys("cpu", "memory");
        assertThat(limits.get("memory")).as(where + ": memory is not overcommitted").isEqualTo(requests.get("memory"));
      }
    }
  }

  @ParameterizedTest
  @MethodSource(KUSTOMIZATIONS)
  void probesAskTheEndpointsTheServerAnswers(String kustomization) {
    for (Deployment deployment : Manifests.of(kustomization).deployments()) {
      Container container = container(deployment);
      for (Probe probe : new Probe[] {container.getStartupProbe(), container.getLivenessProbe(),
          container.getReadinessProbe()}) {
        assertThat(probe).as(name(deployment) + " has all three probes").isNotNull();
        assertThat(PROBE_PATHS).contains(probe.getHttpGet().getPath());
        assertThat(portNames(deployment)).contains(probe.getHttpGet().getPort().getStrVal());
      }
      assertThat(container.getLivenessProbe().getHttpGet().getPath()).as("liveness must not depend on models or peers")
          .isEqualTo("/healthz");
      assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    }
  }

  @ParameterizedTest
  @MethodSource(KUSTOMIZATIONS)
  void terminationOutlastsTheDrainAndTheLongestRequest(String kustomization) {
    Manifests manifests = Manifests.of(kustomization);
    Deployment gateway = manifests.deployments().stream().filter(d -> subcommand(d).equals("gateway")).findFirst()
        .orElseThrow();
    long requestSeconds = Long.parseLong(env(gateway, "INFERGATE_REST_API_TIMEOUT_IN_MS").orElse("30000")) / 1000;
    long drainSeconds = Long.parseLong(env(gateway, "INFERGATE_SHUTDOWN_DRAIN_SECONDS").orElse("0"));
    assertThat(drainSeconds).as("gateways drain before they stop").isPositive();
    for (Deployment deployment : manifests.deployments()) {
      long grace = deployment.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds();
      // A worker refuses new requests, finishes those it holds, waits a second for routing to follow, unloads.
      long needed = subcommand(deployment).equals("gateway") ? drainSeconds + requestSeconds : requestSeconds + 1;
      assertThat(grace).as(name(deployment)).isGreaterThan(needed);
    }
  }

  @ParameterizedTest
  @MethodSource(KUSTOMIZATIONS)
  void volumesConfigMapsClaimsAndSecretsResolve(String kustomization) throws Exception {
    Manifests manifests = Manifests.of(kustomization);
    String docs = Files.readString(Manifests.ROOT.resolve("README.md"))
        + Files.readString(Manifests.ROOT.resolve("docs/kubernetes.md"));
    for (Deployment deployment : manifests.deployments()) {
      PodSpec pod = deployment.getSpec().getTemplate().getSpec();
      Map<String, Volume> volumes = pod.getVolumes().stream().collect(Collectors.toMap(Volume::getName, v -> v));
      container(deployment).getVolumeMounts().forEach(mount ->
          assertThat(volumes).as(name(deployment)).containsKey(mount.getName()));
      for (Volume volume : volumes.values()) {
        if (volume.getConfigMap() != null) {
          assertThat(manifests.hasConfigMap(volume.getConfigMap().getName())).as(volume.getConfigMap().getName()).isTrue();
        }
        if (volume.getPersistentVolumeClaim() != null) {
          assertThat(manifests.hasClaim(volume.getPersistentVolumeClaim().getClaimName())).isTrue();
        }
        if (volume.getSecret() != null) {
          assertOperatorSecret(volume.getSecret().getSecretName(), docs);
        }
      }
      for (EnvVar variable : container(deployment).getEnv()) {
        if (variable.getValueFrom() != null && variable.getValueFrom().getSecretKeyRef() != null) {
          assertOperatorSecret(variable.getValueFrom().getSecretKeyRef().getName(), docs);
        }
      }
      if (pod.getServiceAccountName() != null) {
        assertThat(manifests.named(ServiceAccount.class, pod.getServiceAccountName())).isPresent();
      }
    }
  }

  @ParameterizedTest
  @MethodSource(KUSTOMIZATIONS)
  void everyVariableAndArgumentIsARealFlagOfItsSubcommand(String kustomization) throws Exception {
    for (Deployment deployment : Manifests.of(kustomization).deployments()) {
      Container container = container(deployment);
      String subcommand = subcommand(deployment);
      assertThat(SUBCOMMANDS).contains(subcommand);
      Set<String> flags = flags(subcommand);
      for (String argument : container.getArgs().subList(1, container.getArgs().size())) {
        assertThat(argument).as(name(deployment)).startsWith("--");
        assertThat(flags).as(name(deployment) + " argument " + argument).contains(argument.substring(2).split("=")[0]);
      }
      Set<String> variables = flags.stream().map(ServerFlags::variable).collect(Collectors.toSet());
      for (EnvVar variable : container.getEnv()) {
        if (variable.getName().startsWith("INFERGATE_")) {
          assertThat(variables).as(name(deployment) + " (" + subcommand + ")").contains(variable.getName());
        }
      }
    }
  }

  @ParameterizedTest
  @MethodSource(KUSTOMIZATIONS)
  void membersFindEachOtherOnFixedPortsAtTheirPodAddress(String kustomization) {
    Manifests manifests = Manifests.of(kustomization);
    for (Deployment deployment : manifests.deployments()) {
      String where = name(deployment);
      EnvVar host = container(deployment).getEnv().stream().filter(v -> v.getName().equals("INFERGATE_CLUSTER_HOST"))
          .findFirst().orElseThrow();
      assertThat(host.getValueFrom().getFieldRef().getFieldPath()).as(where).isEqualTo("status.podIP");
      Map<String, Integer> ports = container(deployment).getPorts().stream()
          .collect(Collectors.toMap(ContainerPort::getName, ContainerPort::getContainerPort));
      assertThat(env(deployment, "INFERGATE_CLUSTER_PORT")).as(where).contains(String.valueOf(ports.get("hazelcast")));
      assertThat(env(deployment, "INFERGATE_CLUSTER_BUS_PORT")).as(where).contains(String.valueOf(ports.get("event-bus")));
      List<String> modes = Stream.of("INFERGATE_CLUSTER_MEMBERS", "INFERGATE_CLUSTER_KUBERNETES_SERVICE",
          "INFERGATE_CLUSTER_KUBERNETES_SERVICE_DNS", "INFERGATE_CLUSTER_MULTICAST")
          .filter(mode -> env(deployment, mode).isPresent()).toList();
      assertThat(modes).as(where + ": one way to find the cluster").hasSize(1);
      String serviceName = env(deployment, modes.get(0)).orElseThrow();
      Service service = manifests.service(serviceName).orElseThrow(() -> new AssertionError("No Service " + serviceName));
      assertThat(service.getSpec().getClusterIP()).as("headless").isEqualTo("None");
      assertThat(service.getSpec().getPublishNotReadyAddresses()).as("members join before they are ready").isTrue();
      assertThat(manifests.selecting(service.getSpec().getSelector())).contains(deployment);
      if (modes.get(0).equals("INFERGATE_CLUSTER_KUBERNETES_SERVICE")) {
        assertCanListEndpoints(manifests, deployment.getSpec().getTemplate().getSpec().getServiceAccountName());
      }
    }
  }

  @ParameterizedTest
  @MethodSource(KUSTOMIZATIONS)
  void gpuWorkersTolerateAndSelectTheirPool(String kustomization) {
    for (Deployment deployment : Manifests.of(kustomization).deployments()) {
      PodSpec pod = deployment.getSpec().getTemplate().getSpec();
      boolean gpu = container(deployment).getResources().getLimits().containsKey("nvidia.com/gpu");
      assertThat(container(deployment).getImage().contains("infergate-gpu")).as(name(deployment)).isEqualTo(gpu);
      if (!gpu) {
        continue;
      }
      assertThat(subcommand(deployment)).isEqualTo("worker");
      assertThat(pod.getTolerations()).anySatisfy(t -> assertThat(t.getKey()).isEqualTo("nvidia.com/gpu"));
      String pool = pod.getNodeSelector() == null ? null : pod.getNodeSelector().get("infergate.io/gpu-pool");
      if (pool != null) {
        assertThat(pod.getTolerations()).as(name(deployment)).anySatisfy(t -> {
          assertThat(t.getKey()).isEqualTo("infergate.io/gpu-pool");
          assertThat(t.getValue()).isEqualTo(pool);
          assertThat(t.getEffect()).isEqualTo("NoSchedule");
        });
      }
    }
  }

  @org.junit.jupiter.api.Test
  void theGpuTiersPutHotModelsOnDedicatedCardsAndColdOnesOnASharedPool() {
    Map<String, Deployment> workers = Manifests.of("k8s/overlays/gpu-tiers").deployments().stream()
        .filter(d -> subcommand(d).equals("worker")).collect(Collectors.toMap(ManifestsTest::name, d -> d));
    assertThat(workers).containsOnlyKeys("worker-hot-ctr", "worker-shared");
    Deployment hot = workers.get("worker-hot-ctr");
    Deployment shared = workers.get("worker-shared");
    assertThat(hot.getSpec().getTemplate().getSpec().getNodeSelector()).containsEntry("infergate.io/gpu-pool", "dedicated");
    assertThat(env(hot, "INFERGATE_PER_PROCESS_GPU_MEMORY_FRACTION")).isPresent();
    assertThat(shared.getSpec().getTemplate().getSpec().getNodeSelector()).containsEntry("infergate.io/gpu-pool", "shared");
    assertThat(env(shared, "INFERGATE_GPU_ALLOW_GROWTH")).contains("true");
    assertThat(configMapOf(hot)).isNotEqualTo(configMapOf(shared));
  }

  /** A Secret the operator makes: one Infergate names, and the docs say how to create it. */
  private static void assertOperatorSecret(String secret, String docs) {
    assertThat(OPERATOR_SECRETS).contains(secret);
    assertThat(docs).as("the docs say how to create " + secret).contains("create secret generic " + secret);
  }

  private static String configMapOf(Deployment deployment) {
    return deployment.getSpec().getTemplate().getSpec().getVolumes().stream()
        .filter(v -> v.getName().equals("model-config")).findFirst().orElseThrow().getConfigMap().getName();
  }

  private static void assertCanListEndpoints(Manifests manifests, String account) {
    assertThat(account).as("API discovery runs as a service account of its own").isNotNull();
    List<String> roles = manifests.all(RoleBinding.class).stream()
        .filter(binding -> binding.getSubjects().stream().anyMatch(s -> s.getKind().equals("ServiceAccount")
            && s.getName().equals(account)))
        .map(binding -> binding.getRoleRef().getName()).toList();
    assertThat(manifests.all(Role.class)).filteredOn(role -> roles.contains(role.getMetadata().getName()))
        .anySatisfy(role -> assertThat(role.getRules()).anySatisfy(rule -> {
          assertThat(rule.getResources()).contains("endpoints");
          assertThat(rule.getVerbs()).contains("get", "list");
        }));
  }

  private static synchronized Set<String> flags(String subcommand) throws Exception {
    Set<String> flags = FLAGS.get(subcommand);
    if (flags == null) {
      flags = ServerFlags.of(subcommand);
      FLAGS.put(subcommand, flags);
    }
    return flags;
  }

  static Container container(Deployment deployment) {
    List<Container> containers = deployment.getSpec().getTemplate().getSpec().getContainers();
    assertThat(containers).as(name(deployment)).hasSize(1);
    return containers.get(0);
  }

  static String subcommand(Deployment deployment) {
    return container(deployment).getArgs().get(0);
  }

  static Optional<String> env(Deployment deployment, String variable) {
    return container(deployment).getEnv().stream().filter(v -> v.getName().equals(variable))
        .map(EnvVar::getValue).filter(Objects::nonNull).findFirst();
  }

  private static Set<String> portNames(Deployment deployment) {
    return container(deployment).getPorts().stream().map(ContainerPort::getName).collect(Collectors.toSet());
  }

  private static String name(HasMetadata object) {
    return object.getMetadata().getName();
  }
}
