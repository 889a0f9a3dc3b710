package io.infergate.k8s;

import io.infergate.netlab.NetworkLab;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A process started from an unpacked image as a container runtime starts it, with what this
 * machine has: on a host of its own in the network lab, the image's root file system mounted
 * read-only in a mount namespace of its own, /proc, the given mounts, a clean environment (the
 * image's, then the given), the image's entrypoint with the given args, as the image's user.
 */
final class ContainerProcess {

  /** A tmpfs (source null) or a bind mount of source at target, a path inside the container. */
  record Mount(Path source, String target, boolean readOnly) {
    static Mount tmpfs(String target) {
      return new Mount(null, target, false);
    }
  }

  private ContainerProcess() {}

  static Process start(NetworkLab lab, String host, ImageBundle image, List<Mount> mounts, List<String> env,
                       List<String> args, Path log) throws IOException {
    Path root = image.rootfs();
    StringBuilder script = new StringBuilder("set -e\n")
        .append("R=").append(root).append('\n')
        .append("mount --bind \"$R\" \"$R\"\nmount -o remount,bind,ro \"$R\"\n")
        .append("mount -t proc proc \"$R/proc\"\n");
    for (Mount mount : mounts) {
      String target = "\"$R" + mount.target() + "\"";
      Files.createDirectories(root.resolve(mount.target().substring(1)));
      if (mount.source() == null) {
        script.append("mount -t tmpfs -o mode=1777 tmpfs ").append(target).append('\n');
        continue;
      }
      script.append("mount --bind ").append(quote(mount.source().toString())).append(' ').append(target).append('\n');
      if (mount.readOnly()) {
        script.append("mount -o remount,bind,ro ").append(target).append('\n');
      }
    }
    List<String> command = new ArrayList<>(List.of("chroot", "--userspec=" + image.user(), "$R", "env", "-i",
        "-C", image.workingDir()));
    command.addAll(image.env());
    command.addAll(env);
    command.addAll(image.entrypoint());
    command.addAll(args);
    script.append("exec");
    command.forEach(word -> script.append(' ').append(word.equals("$R") ? "\"$R\"" : quote(word)));
    return lab.run(host, log, List.of("sh", "-c", script.toString()));
  }

  private static String quote(String word) {
    return "'" + word.replace("'", "'\\''") + "'";
  }
}
