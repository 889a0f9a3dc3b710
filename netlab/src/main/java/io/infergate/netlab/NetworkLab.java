package io.infergate.netlab;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Hosts of their own on this machine for fault tests: one network namespace per host, each
 * wired to a bridge in the test's namespace by a veth pair, so that a link can be cut (the host
 * drops off the network, as a pod whose node fails) or the route between two hosts blocked (a
 * partition), not only a process killed. Needs root and iproute2. Used by the network fault
 * tests and by the run of the Kubernetes manifests' pods.
 */
public final class NetworkLab implements AutoCloseable {

  private static final String BRIDGE = "igbr0";
  private static final String SUBNET = "10.77.0.";

  private final Map<String, String> addresses = new LinkedHashMap<>();
  private final List<Process> processes = new ArrayList<>();

  /** Whether this machine lets the test make namespaces (root, with the ip tool). */
  public static boolean available() {
    try {
      return "0".equals(new String(new ProcessBuilder("id", "-u").start().getInputStream().readAllBytes()).trim())
          && new ProcessBuilder("ip", "netns", "list").start().waitFor() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  public NetworkLab() throws Exception {
    cleanUp();
    ip("link", "add", BRIDGE, "type", "bridge");
    ip("addr", "add", SUBNET + "1/24", "dev", BRIDGE);
    ip("link", "set", BRIDGE, "up");
  }

  /** The test's own address on the lab's network. */
  public static String testAddress() {
    return SUBNET + "1";
  }

  /** Adds a host; returns its address. */
  public String host(String name) throws Exception {
    String address = SUBNET + (10 + addresses.size());
    String ns = namespace(name);
    ip("netns", "add", ns);
    ip("link", "add", veth(name), "type", "veth", "peer", "name", "eth-" + name);
    ip("link", "set", "eth-" + name, "netns", ns);
    ip("link", "set", veth(name), "master", BRIDGE);
    ip("link", "set", veth(name), "up");
    ip("netns", "exec", ns, "ip", "addr", "add", address + "/24", "dev", "eth-" + name);
    ip("netns", "exec", ns, "ip", "link", "set", "eth-" + name, "up");
    ip("netns", "exec", ns, "ip", "link", "set", "lo", "up");
    addresses.put(name, address);
    return address;
  }

  public String address(String name) {
    return addresses.get(name);
  }

  /** Starts a command on a host; its output goes to {@code log}. Stopped when the lab closes. */
  public Process run(String name, Path log, List<String> command) throws IOException {
    List<String> inNamespace = new ArrayList<>(List.of("ip", "netns", "exec", namespace(name)));
    inNamespace.addAll(command);
    Process process = new ProcessBuilder(inNamespace).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    processes.add(process);
    return process;
  }

  /** Takes the host off the network: its link goes down, as when its machine or cable fails. */
  public void cut(String name) throws Exception {
    ip("link", "set", veth(name), "down");
  }

  public void reconnect(String name) throws Exception {
    ip("link", "set", veth(name), "up");
  }

  /** Blocks traffic between every host of {@code one} and every host of {@code other}, both ways. */
  public void partition(List<String> one, List<String> other) throws Exception {
    routes("add", one, other);
  }

  public void heal(List<String> one, List<String> other) throws Exception {
    routes("del", one, other);
  }

  private void routes(String action, List<String> one, List<String> other) throws Exception {
    for (String a : one) {
      for (String b : other) {
        ip("netns", "exec", namespace(a), "ip", "route", action, "blackhole", addresses.get(b) + "/32");
        ip("netns", "exec", namespace(b), "ip", "route", action, "blackhole", addresses.get(a) + "/32");
      }
    }
  }

  @Override
  public void close() throws Exception {
    for (Process process : processes) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
    cleanUp();
  }

  /** Removes what a lab (this one, or one a killed test run left) made. */
  private static void cleanUp() throws Exception {
    Process list = new ProcessBuilder("ip", "netns", "list").start();
    for (String line : new String(list.getInputStream().readAllBytes()).split("\n")) {
      String ns = line.split(" ")[0];
      if (ns.startsWith("ig-")) {
        Process pids = new ProcessBuilder("ip", "netns", "pids", ns).start();
        for (String pid : new String(pids.getInputStream().readAllBytes()).split("\\s+")) {
          if (!pid.isBlank()) {
            ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
          }
        }
        run(List.of("ip", "netns", "del", ns));
      }
    }
    Process links = new ProcessBuilder("ip", "-o", "link", "show").start();
    for (String line : new String(links.getInputStream().readAllBytes()).split("\n")) {
      String[] fields = line.split(":\\s+|@");
      if (fields.length > 1 && fields[1].startsWith("igv-")) {
        run(List.of("ip", "link", "del", fields[1]));
      }
    }
    run(List.of("ip", "link", "del", BRIDGE));
  }

  private static String namespace(String name) {
    return "ig-" + name;
  }

  private static String veth(String name) {
    return "igv-" + name;
  }

  private static void ip(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("ip"));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    if (process.waitFor() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
    }
  }

  private static void run(List<String> command) throws Exception {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    process.getInputStream().readAllBytes();
    process.waitFor();
  }
}
