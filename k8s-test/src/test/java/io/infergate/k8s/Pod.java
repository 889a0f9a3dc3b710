package io.infergate.k8s;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.infergate.netlab.NetworkLab;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One pod of a rendered Deployment, run as a container runtime would run it (ContainerProcess):
 * its own network namespace and address, emptyDirs as tmpfs, ConfigMaps and the model volume
 * bound at their mount paths, the rendered env (the downward API's pod IP, the Secrets' test
 * values) and args after the image's entrypoint.
 * The container's limits reach the JVM as -XX:MaxRAM and -XX:ActiveProcessorCount, standing in
 * for the cgroup a kubelet would make.
 */
record Pod(String name, String address, Deployment deployment, Process process, Path log) {

  /** What every pod of a run shares: the image, the rendered objects, the volumes' sources. */
  record Runtime(NetworkLab lab, ImageBundle image, Manifests manifests, Map<String, Path> claims,
                 Map<String, String> secrets, Path dir) {}

  static Pod start(Runtime runtime, Deployment deployment, String name) throws Exception {
    String address = runtime.lab().host(name);
    Container container = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
    Path podDir = Files.createDirectories(runtime.dir().resolve(name));
    Map<String, Volume> volumes = new LinkedHashMap<>();
    deployment.getSpec().getTemplate().getSpec().getVolumes().forEach(v -> volumes.put(v.getName(), v));
    List<ContainerProcess.Mount> mounts = new ArrayList<>();
    for (VolumeMount mount : container.getVolumeMounts()) {
      Volume volume = volumes.get(mount.getName());
      if (volume.getEmptyDir() != null) {
        mounts.add(ContainerProcess.Mount.tmpfs(mount.getMountPath()));
        continue;
      }
      Path source;
      if (volume.getConfigMap() != null) {
        ConfigMap map = runtime.manifests().named(ConfigMap.class, volume.getConfigMap().getName()).orElseThrow();
        source = Files.createDirectories(podDir.resolve(mount.getName()));
        for (var entry : map.getData().entrySet()) {
          Files.writeString(source.resolve(entry.getKey()), entry.getValue());
        }
      } else {
        source = runtime.claims().get(volume.getPersistentVolumeClaim().getClaimName());
      }
      mounts.add(new ContainerProcess.Mount(source, mount.getMountPath(), Boolean.TRUE.equals(mount.getReadOnly())));
    }
    Path log = podDir.resolve("pod.log");
    Process process = ContainerProcess.start(runtime.lab(), name, runtime.image(), mounts,
        environment(runtime, container, address), container.getArgs(), log);
    return new Pod(name, address, deployment, process, log);
  }

  /** The rendered env over the image's: the downward API's pod IP, the Secrets' values, the limits. */
  private static List<String> environment(Runtime runtime, Container container, String address) {
    Map<String, String> env = new LinkedHashMap<>();
    for (EnvVar variable : container.getEnv()) {
      String value = variable.getValue();
      if (variable.getValueFrom() != null && variable.getValueFrom().getFieldRef() != null) {
        if (!variable.getValueFrom().getFieldRef().getFieldPath().equals("status.podIP")) {
          throw new AssertionError("The run knows the pod IP only: " + variable.getValueFrom().getFieldRef());
        }
        value = address;
      } else if (variable.getValueFrom() != null && variable.getValueFrom().getSecretKeyRef() != null) {
        var ref = variable.getValueFrom().getSecretKeyRef();
        value = runtime.secrets().get(ref.getName() + "/" + ref.getKey());
      }
      env.put(variable.getName(), value);
    }
    Map<String, Quantity> limits = container.getResources().getLimits();
    env.merge("JAVA_TOOL_OPTIONS", "-XX:MaxRAM=" + Quantity.getAmountInBytes(limits.get("memory")).longValue()
        + " -XX:ActiveProcessorCount=" + Math.max(1, (int) Math.ceil(Quantity.getAmountInBytes(limits.get("cpu")).doubleValue())),
        (manifest, limit) -> manifest + " " + limit);
    return env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
  }

  /** SIGTERM, as the kubelet stops a container; returns its exit code, or -1 past the grace period. */
  int terminate() throws InterruptedException {
    process.destroy();
    long grace = deployment.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds();
    if (!process.waitFor(grace, java.util.concurrent.TimeUnit.SECONDS)) {
      process.destroyForcibly();
      return -1;
    }
    return process.exitValue();
  }

  String logText() throws IOException {
    return Files.exists(log) ? Files.readString(log) : "";
  }
}
