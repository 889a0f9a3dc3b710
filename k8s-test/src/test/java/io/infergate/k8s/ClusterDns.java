package io.infergate.k8s;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The cluster's DNS for the pods of a test run: dnsmasq answering each Service name with the
 * addresses of its endpoints, as CoreDNS does for a headless Service. Changes are re-read on
 * SIGHUP, as endpoints change when pods come and go.
 */
final class ClusterDns implements AutoCloseable {

  private final Path hosts;
  private final Path log;
  private final Map<String, Set<String>> names = new LinkedHashMap<>();
  private final Process dnsmasq;

  ClusterDns(String address, Path dir) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    Files.deleteIfExists(dir.resolve("dnsmasq.log"));
    this.hosts = dir.resolve("endpoints.hosts");
    Files.writeString(hosts, "");
    dnsmasq = new ProcessBuilder("dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--no-poll",
        "--bind-interfaces", "--listen-address=" + address, "--port=53", "--local-ttl=1", "--user=root", "--log-queries",
        "--addn-hosts=" + hosts, "--log-facility=" + dir.resolve("dnsmasq.log"))
        .redirectErrorStream(true).redirectOutput(dir.resolve("dnsmasq.out").toFile()).start();
    // SIGHUP kills dnsmasq until it has set up its handlers: wait for it to say it started.
    log = dir.resolve("dnsmasq.log");
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (!Files.exists(log) || !Files.readString(log).contains("started")) {
      if (System.nanoTime() > deadline || !dnsmasq.isAlive()) {
        throw new IOException("dnsmasq did not start: " + Files.readString(dir.resolve("dnsmasq.out")));
      }
      Thread.sleep(50);
    }
  }

  /** Whether a pod at {@code address} asked for {@code name}. */
  boolean asked(String address, String name) throws IOException {
    return Files.readString(log).lines().anyMatch(line -> line.contains("query[A] " + name + " from " + address));
  }

  synchronized void add(String name, String address) throws IOException {
    names.computeIfAbsent(name, n -> new TreeSet<>()).add(address);
    publish();
  }

  synchronized void remove(String name, String address) throws IOException {
    names.getOrDefault(name, new TreeSet<>()).remove(address);
    publish();
  }

  private void publish() throws IOException {
    Files.writeString(hosts, names.entrySet().stream()
        .flatMap(entry -> entry.getValue().stream().map(address -> address + " " + entry.getKey()))
        .collect(Collectors.joining("\n", "", "\n")));
    try {
      ImageBundle.run(List.of("kill", "-HUP", Long.toString(dnsmasq.pid())));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    dnsmasq.destroy();
  }
}
