package io.infergate.k8s;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.JsonNode;

/**
 * A container image unpacked as a container runtime would: its layers as one root file system
 * (skopeo and umoci, from Debian), and what its config says to run, as which user, where.
 */
record ImageBundle(Path rootfs, String architecture, List<String> entrypoint, List<String> env, String user,
                   String workingDir) {

  /** The image in a tarball as Jib writes it (docker-archive). */
  static ImageBundle unpack(Path imageTarball, Path dir) throws IOException, InterruptedException {
    return unpack(dir, List.of(), "docker-archive:" + imageTarball);
  }

  /** One architecture's image of a multi-platform image in an OCI archive, as a runtime there pulls it. */
  static ImageBundle unpack(Path ociArchive, String tag, String architecture, Path dir)
      throws IOException, InterruptedException {
    return unpack(dir, List.of("--override-arch", architecture), "oci-archive:" + ociArchive + ":" + tag);
  }

  /** @param skopeoOptions skopeo's global options, for the platform to pick from an index */
  private static ImageBundle unpack(Path dir, List<String> skopeoOptions, String source)
      throws IOException, InterruptedException {
    Path layout = dir.resolve("oci");
    Path bundle = dir.resolve("bundle");
    run(List.of("rm", "-rf", layout.toString(), bundle.toString()));
    Files.createDirectories(dir);
    List<String> copy = new ArrayList<>(List.of("skopeo"));
    copy.addAll(skopeoOptions);
    copy.addAll(List.of("copy", "--quiet", source, "oci:" + layout + ":pod"));
    run(copy);
    run(List.of("umoci", "unpack", "--image", layout + ":pod", bundle.toString()));
    JsonNode image = StrictModel.MAPPER.readTree(run(List.of("skopeo", "inspect", "--config", "oci:" + layout + ":pod")));
    JsonNode config = image.path("config");
    return new ImageBundle(bundle.resolve("rootfs"), image.path("architecture").asString(""),
        strings(config.path("Entrypoint")), strings(config.path("Env")), config.path("User").asString(""),
        config.path("WorkingDir").asString("/"));
  }

  private static List<String> strings(JsonNode array) {
    List<String> values = new ArrayList<>();
    array.forEach(value -> values.add(value.asString()));
    return values;
  }

  static String run(List<String> command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(300, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IOException(String.join(" ", command) + " failed: " + output);
    }
    return output;
  }
}
