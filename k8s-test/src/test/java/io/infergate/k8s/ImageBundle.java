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
record ImageBundle(Path rootfs, List<String> entrypoint, List<String> env, String user, String workingDir) {

  static ImageBundle unpack(Path imageTarball, Path dir) throws IOException, InterruptedException {
    Path layout = dir.resolve("oci");
    Path bundle = dir.resolve("bundle");
    run(List.of("rm", "-rf", layout.toString(), bundle.toString()));
    Files.createDirectories(dir);
    run(List.of("skopeo", "copy", "--quiet", "docker-archive:" + imageTarball, "oci:" + layout + ":pod"));
    run(List.of("umoci", "unpack", "--image", layout + ":pod", bundle.toString()));
    JsonNode config = StrictModel.MAPPER.readTree(
        run(List.of("skopeo", "inspect", "--config", "oci:" + layout + ":pod"))).path("config");
    return new ImageBundle(bundle.resolve("rootfs"), strings(config.path("Entrypoint")), strings(config.path("Env")),
        config.path("User").asString(""), config.path("WorkingDir").asString("/"));
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
