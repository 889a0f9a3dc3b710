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
 * One pod of a rendered Deployment, run as a container runtime would run it, with what this
 * machine has: its own network namespace and address (NetworkLab), the image's root file system
 * mounted read-only in a mount namespace of its own, /proc, emptyDirs as tmpfs, ConfigMaps and
 * the model volume bound read-only at their mount paths, the rendered env (the downward API's
 * pod IP, the Secrets' test values) and args after the image's entrypoint, as the image's user.
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
    Path root = runtime.image().rootfs();
    Path podDir = Files.createDirectories(runtime.dir().resolve(name));
    Map<String, Volume> volumes = new LinkedHashMap<>();
    deployment.getSpec().getTemplate().getSpec().getVolumes().forEach(v -> volumes.put(v.getName(), v));
    StringBuilder script = new StringBuilder("set -e\n")
        .append("R=").append(root).append('\n')
        .append("mount --bind \"$R\" \"$R\"\nmount -o remount,bind,ro \"$R\"\n")
        .append("mount -t proc proc \"$R/proc\"\n");
    for (VolumeMount mount : container.getVolumeMounts()) {
      Volume volume = volumes.get(mount.getName());
      String target = "\"$R" + mount.getMountPath() + "\"";
      Files.createDirectories(root.resolve(mount.getMountPath().substring(1)));
      if (volume.getEmptyDir() != null) {
        script.append("mount -t tmpfs -o mode=1777 tmpfs ").append(target).append('\n');
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
      script.append("mount --bind ").append(source).append(' ').append(target).append('\n');
      if (Boolean.TRUE.equals(mount.getReadOnly())) {
        script.append("mount -o remount,bind,ro ").append(target).append('\n');
      }
    }
    List<String> command = new ArrayList<>(List.of("chroot", "--userspec=" + runtime.image().user(), "$R", "env", "-i",
        "-C", runtime.image().workingDir()));
    command.addAll(environment(runtime, container, address));
    command.addAll(runtime.image().entrypoint());
    command.addAll(container.getArgs());
    script.append("exec");
    command.forEach(word -> script.append(' ').append(word.equals("$R") ? "\"$R\"" : quote(word)));
    Path log = podDir.resolve("pod.log");
    Process process = runtime.lab().run(name, log, List.of("sh", "-c", script.toString()));
    return new Pod(name, address, deployment, process, log);
  }

  private static List<String> environment(Runtime runtime, Container container, String address) {
    Map<String, String> env = new LinkedHashMap<>();
    for (String entry : runtime.image().env()) {
      env.put(entry.substring(0, entry.indexOf('=')), entry.substring(entry.indexOf('=') + 1));
    }
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

  private static String quote(String word) {
    return "'" + word.replace("'", "'\\''") + "'";
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
