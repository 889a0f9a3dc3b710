package io.infergate.common.bus;

import io.infergate.common.Priority;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The servables a worker of this process serves, by their event-bus address. A gateway in the
 * same process hands a request for one of them straight to the worker instead of sending it
 * over the event bus: on one machine, the bus's per-request reply registration, timer and two
 * dispatches cost a fifth of the throughput (measured). Workers in other processes are reached
 * over the bus as always.
 */
public final class LocalServables {

  /** Where a worker answers: exactly one of {@code response} and {@code failure} is non-null. */
  public interface Reply {
    void send(Object response, Throwable failure);
  }

  /** A servable's request handler; it may answer on any thread. */
  public interface Handler {
    void handle(Object request, long deadlineNanos, Priority priority, Reply reply);
  }

  private final Map<String, Handler> handlers = new ConcurrentHashMap<>();

  public void register(String address, Handler handler) {
    handlers.put(address, handler);
  }

  public void unregister(String address) {
    handlers.remove(address);
  }

  /** The handler of a servable's address in this process, or null. */
  public Handler find(String address) {
    return handlers.get(address);
  }
}
