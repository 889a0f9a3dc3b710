package io.infergate.worker.lifecycle;

import com.sun.management.OperatingSystemMXBean;
import java.lang.management.ManagementFactory;

/**
 * The memory a worker's models may hold when no budget is given: what the process may use (the
 * container's limit where there is one, else the machine's memory) less the Java heap, which
 * models do not live in, and a fifth of the rest for the JVM's own native memory and TensorFlow's
 * per-request buffers.
 */
public final class MemoryBudget {

  private MemoryBudget() {}

  public static long defaultBytes() {
    long total = ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize();
    return Math.max(0, (total - Runtime.getRuntime().maxMemory()) / 5 * 4);
  }
}
