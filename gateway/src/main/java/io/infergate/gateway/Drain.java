package io.infergate.gateway;

/**
 * Whether the process is shutting down. From the moment it does, the gateways report not ready
 * (REST and gRPC health) while they keep serving, so load balancers stop sending new requests
 * before the servers close.
 */
public final class Drain {

  private volatile boolean draining;

  public void begin() {
    draining = true;
  }

  public boolean isDraining() {
    return draining;
  }
}
