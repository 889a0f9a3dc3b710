package io.infergate.gateway.readiness;

/**
 * Whether the process's request path has been warmed up. Until it has, the gateways report not
 * ready (REST, gRPC health, the Open Inference readiness) while they already answer: the
 * warm-up's own requests come through them.
 */
public final class Warmth {

  private volatile boolean warm;

  public Warmth(boolean warm) {
    this.warm = warm;
  }

  void reached() {
    warm = true;
  }

  public boolean isWarm() {
    return warm;
  }
}
