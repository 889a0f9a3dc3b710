package io.infergate.gateway.admission;

import io.infergate.common.Priority;
import io.infergate.common.metrics.MetricNames;
import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The gateway process's admission budget: connections open, inference requests in flight (in
 * all and per model), and the memory their requests may hold. A request beyond it is refused
 * at once, UNAVAILABLE for the server's budget and RESOURCE_EXHAUSTED for a model's, with a hint
 * to retry, instead of waiting in a queue: the requests that are taken keep their latency, and
 * the process's memory stays bounded however many clients push.
 */
public final class Admission {

  /**
   * What a REST request costs in memory while it is served, in multiples of its JSON body: the
   * body, its parsed values, the tensors made of them and the answer.
   */
  public static final int MEMORY_PER_BODY_BYTE = 8;
  /** The same for a gRPC request, in multiples of its protobuf message (no text to parse). */
  public static final int MEMORY_PER_MESSAGE_BYTE = 3;

  /**
   * @param maxConnections connections the process keeps open (REST and gRPC together)
   * @param maxRequests inference requests in flight in the process
   * @param maxRequestsPerModel inference requests in flight for one model
   * @param maxRequestBytes memory the requests in flight may hold, each counted as
   *     {@link #MEMORY_PER_BODY_BYTE} times its body or {@link #MEMORY_PER_MESSAGE_BYTE} times its message
   */
  public record Limits(int maxConnections, int maxRequests, int maxRequestsPerModel, long maxRequestBytes) {}

  private final Limits limits;
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicInteger requests = new AtomicInteger();
  private final AtomicLong bytes = new AtomicLong();
  private final Map<String, AtomicInteger> perModel = new ConcurrentHashMap<>();
  private final Counter shedConnections;
  private final Counter shedServer;
  private final Counter shedMemory;
  private final Counter shedModel;

  public Admission(Limits limits, MeterRegistry meters) {
    this.limits = limits;
    shedConnections = shed(meters, "connections");
    shedServer = shed(meters, "server");
    shedMemory = shed(meters, "memory");
    shedModel = shed(meters, "model");
    Gauge.builder(MetricNames.CONNECTIONS_OPEN, connections, AtomicInteger::get)
        .description("Connections open to the gateway's REST and gRPC servers").register(meters);
    Gauge.builder(MetricNames.REQUESTS_IN_FLIGHT, requests, AtomicInteger::get)
        .description("Inference requests the gateway has taken in and not yet answered").register(meters);
    Gauge.builder(MetricNames.REQUESTS_IN_FLIGHT_BYTES, bytes, AtomicLong::get).baseUnit("bytes")
        .description("Memory charged to the requests in flight").register(meters);
  }

  public Limits limits() {
    return limits;
  }

  /** Takes a new connection in; false when the process has as many open as it may (close it then). */
  public boolean openConnection() {
    if (connections.incrementAndGet() > limits.maxConnections()) {
      connections.decrementAndGet();
      shedConnections.increment();
      return false;
    }
    return true;
  }

  public void closeConnection() {
    connections.decrementAndGet();
  }

  /**
   * Takes an inference request in, charged for a JSON body of {@code bodyBytes} (0 while unknown).
   *
   * @throws ServingException UNAVAILABLE when the server's budget is spent
   */
  public Ticket admit(long bodyBytes) {
    if (requests.incrementAndGet() > limits.maxRequests()) {
      requests.decrementAndGet();
      shedServer.increment();
      throw ServingException.unavailable("The server has " + limits.maxRequests()
          + " requests in flight, its limit; retry shortly");
    }
    Ticket ticket = new Ticket();
    try {
      ticket.charge(bodyBytes, MEMORY_PER_BODY_BYTE);
    } catch (ServingException e) {
      ticket.release();
      throw e;
    }
    return ticket;
  }

  /**
   * Counts a request against its model's budget until {@code release} runs. The last tenth of
   * the budget is kept for high priority, and the last quarter from low: when a model is
   * overloaded its low-priority requests are refused first.
   *
   * @throws ServingException RESOURCE_EXHAUSTED when the model has as many requests in flight as it may
   */
  public Runnable admitForModel(String model, Priority priority) {
    AtomicInteger count = perModel.computeIfAbsent(model, m -> new AtomicInteger());
    int limit = modelLimit(priority);
    if (count.incrementAndGet() > limit) {
      count.decrementAndGet();
      shedModel.increment();
      throw new ServingException(StatusCode.RESOURCE_EXHAUSTED, "Model " + model + " has " + limit
          + " requests in flight, its limit for " + priority.name().toLowerCase(Locale.ROOT)
          + " priority; retry shortly");
    }
    AtomicBoolean released = new AtomicBoolean();
    return () -> {
      if (released.compareAndSet(false, true)) {
        count.decrementAndGet();
      }
    };
  }

  private int modelLimit(Priority priority) {
    int all = limits.maxRequestsPerModel();
    return switch (priority) {
      case HIGH -> all;
      case NORMAL -> Math.max(1, all - all / 10);
      case LOW -> Math.max(1, all - all / 4);
    };
  }

  /** One admitted request: released once, when it has been answered (or its client has gone). */
  public final class Ticket {
    private final AtomicBoolean released = new AtomicBoolean();
    private final AtomicLong charged = new AtomicLong();

    /**
     * Charges a body (or a part of one) to the memory budget; UNAVAILABLE when it does not fit.
     *
     * @param bytesPerByte {@link #MEMORY_PER_BODY_BYTE} or {@link #MEMORY_PER_MESSAGE_BYTE}
     */
    public void charge(long bodyBytes, int bytesPerByte) {
      if (bodyBytes <= 0) {
        return;
      }
      long cost = bodyBytes * bytesPerByte;
      if (bytes.addAndGet(cost) > limits.maxRequestBytes()) {
        bytes.addAndGet(-cost);
        shedMemory.increment();
        throw ServingException.unavailable("The requests in flight hold the server's memory budget for them; "
            + "retry shortly");
      }
      charged.addAndGet(cost);
    }

    public void release() {
      if (released.compareAndSet(false, true)) {
        requests.decrementAndGet();
        bytes.addAndGet(-charged.get());
      }
    }
  }

  private static Counter shed(MeterRegistry meters, String reason) {
    return Counter.builder(MetricNames.REQUESTS_SHED)
        .description("Requests and connections refused at once because a budget was spent, by budget")
        .tag("budget", reason).register(meters);
  }
}
