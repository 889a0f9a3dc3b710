package io.infergate.app;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;

/** A real redis-server for tests (bin/test installs it), on loopback, with nothing saved to disk. */
final class TestRedis {

  private TestRedis() {}

  /** Starts one on {@code port}, logging to {@code log}; returns once it takes connections. */
  static Process start(int port, Path log) throws Exception {
    Process process = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no", "--enable-debug-command", "yes").redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
    long deadline = System.currentTimeMillis() + 10_000;
    while (System.currentTimeMillis() < deadline) {
      try (Socket socket = new Socket("127.0.0.1", port)) {
        return process;
      } catch (IOException notYet) {
        Thread.sleep(50);
      }
    }
    process.destroyForcibly();
    throw new IllegalStateException("redis-server did not start on port " + port);
  }
}
