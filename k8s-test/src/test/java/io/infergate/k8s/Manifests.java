package io.infergate.k8s;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.JsonNode;

/** One kustomization rendered by {@code kubectl kustomize}, every object parsed strictly. */
final class Manifests {

  static final Path ROOT = Path.of(System.getProperty("infergate.root", "..")).toAbsolutePath().normalize();

  private static final Map<String, Manifests> RENDERED = new ConcurrentHashMap<>();

  final String name;
  /** The rendered YAML, as kubectl would send it. */
  final String yaml;
  final List<Object> objects;

  private Manifests(String name, String yaml, List<Object> objects) {
    this.name = name;
    this.yaml = yaml;
    this.objects = objects;
  }

  /** The kustomizations users apply: the overlays, and the base with every component that no overlay uses. */
  static List<String> kustomizations() {
    return List.of("k8s/overlays/cpu", "k8s/overlays/gpu-tiers", "k8s-test/target/base-with-every-component");
  }

  static Manifests of(String kustomization) {
    return RENDERED.computeIfAbsent(kustomization, Manifests::render);
  }

  private static Manifests render(String kustomization) {
    try {
      if (kustomization.endsWith("base-with-every-component")) {
        writeEveryComponentKustomization(ROOT.resolve(kustomization));
      }
      Process kubectl = new ProcessBuilder("kubectl", "kustomize", ROOT.resolve(kustomization).toString())
          .redirectError(ProcessBuilder.Redirect.INHERIT).start();
      String yaml = new String(kubectl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!kubectl.waitFor(60, TimeUnit.SECONDS) || kubectl.exitValue() != 0) {
        throw new AssertionError("kubectl kustomize " + kustomization + " failed");
      }
      List<Object> objects = new ArrayList<>();
      for (JsonNode document : StrictModel.MAPPER.readerFor(JsonNode.class).<JsonNode>readValues(yaml).readAll()) {
        objects.add(StrictModel.parse(document));
      }
      return new Manifests(kustomization, yaml, List.copyOf(objects));
    } catch (IOException e) {
      throw new AssertionError("Cannot render " + kustomization + " (is kubectl installed?)", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The components no overlay includes (API discovery, KEDA on the base pool) must render too. */
  private static void writeEveryComponentKustomization(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path k8s = dir.relativize(ROOT.resolve("k8s"));
    StringBuilder text = new StringBuilder("""
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - %s/base
        components:
        """.formatted(k8s));
    try (var components = Files.list(ROOT.resolve("k8s/components"))) {
      components.sorted().forEach(component -> text.append("  - ").append(k8s).append("/components/")
          .append(component.getFileName()).append('\n'));
    }
    Files.writeString(dir.resolve("kustomization.yaml"), text);
  }

  <T> List<T> all(Class<T> kind) {
    return objects.stream().filter(kind::isInstance).map(kind::cast).toList();
  }

  List<Deployment> deployments() {
    return all(Deployment.class);
  }

  <T extends HasMetadata> Optional<T> named(Class<T> kind, String name) {
    return all(kind).stream().filter(object -> object.getMetadata().getName().equals(name)).findFirst();
  }

  boolean hasConfigMap(String name) {
    return named(ConfigMap.class, name).isPresent();
  }

  boolean hasClaim(String name) {
    return named(PersistentVolumeClaim.class, name).isPresent();
  }

  Optional<Service> service(String name) {
    return named(Service.class, name);
  }

  /** The Deployments whose pods a label selector picks. */
  List<Deployment> selecting(Map<String, String> selector) {
    return deployments().stream()
        .filter(deployment -> deployment.getSpec().getTemplate().getMetadata().getLabels().entrySet()
            .containsAll(selector.entrySet()))
        .toList();
  }

  @Override
  public String toString() {
    return name;
  }
}
