package io.infergate.k8s;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The flags a subcommand of the built distribution really takes, from its own --help (this module
 * stays apart from the server's classpath), and the INFERGATE_ variable of each.
 */
final class ServerFlags {

  /** An option's own line in picocli's list (descriptions are indented further and are not read). */
  private static final Pattern FLAG = Pattern.compile("(?m)^ {2,8}(?:-\\w, )?--([a-z][a-z0-9_]*)");

  private ServerFlags() {}

  static Set<String> of(String subcommand) throws IOException, InterruptedException {
    Path jar = Manifests.ROOT.resolve("app/target/infergate.jar");
    if (!Files.isRegularFile(jar)) {
      throw new AssertionError(jar + " is missing: the app module builds it before these tests (./mvnw verify)");
    }
    Process help = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-jar", jar.toString(), subcommand, "--help").redirectErrorStream(true).start();
    String text = new String(help.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!help.waitFor(60, TimeUnit.SECONDS) || help.exitValue() != 0) {
      throw new AssertionError("infergate " + subcommand + " --help failed: " + text);
    }
    Set<String> flags = new TreeSet<>();
    Matcher matcher = FLAG.matcher(text);
    while (matcher.find()) {
      flags.add(matcher.group(1));
    }
    flags.removeAll(Set.of("help", "version"));
    return flags;
  }

  static String variable(String flag) {
    return "INFERGATE_" + flag.toUpperCase(Locale.ROOT);
  }
}
