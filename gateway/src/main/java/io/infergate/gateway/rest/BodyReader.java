package io.infergate.gateway.rest;

import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.infergate.gateway.admission.Admission;
import io.infergate.gateway.admission.ExpiryWatch;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import java.util.Arrays;

/**
 * Takes in a REST request that carries a body, the same way for every endpoint and whatever its
 * Content-Type: admitted within the process's budget (or refused at once, before its body is
 * read), at most {@code maxBytes} (a body declared larger is refused unread), and complete
 * within {@code timeoutMillis} of its arrival, so a client that sends slowly cannot hold a
 * connection and its buffer forever. The admission is returned when the response has gone.
 */
final class BodyReader {

  /** What a body of no declared length starts with. */
  private static final int FIRST_ALLOCATION = 16 * 1024;

  private final long maxBytes;
  private final long timeoutNanos;
  private final ExpiryWatch expiry;
  private final Admission admission;

  BodyReader(long maxBytes, long timeoutMillis, ExpiryWatch expiry, Admission admission) {
    this.maxBytes = maxBytes;
    this.timeoutNanos = timeoutMillis * 1_000_000;
    this.expiry = expiry;
    this.admission = admission;
  }

  /**
   * The body; fails with a {@link Refused} (413, 408, 400) when it breaks a limit, or with
   * UNAVAILABLE when the server's budget is spent.
   */
  Future<byte[]> read(HttpServerRequest request, long arrivedNanos) {
    long declared;
    try {
      String header = request.getHeader(HttpHeaders.CONTENT_LENGTH);
      declared = header == null ? -1 : Long.parseLong(header.trim());
    } catch (NumberFormatException e) {
      return Future.failedFuture(new Refused(400, StatusCode.INVALID_ARGUMENT, "Invalid Content-Length"));
    }
    if (declared > maxBytes) {
      return Future.failedFuture(tooLarge());
    }
    Admission.Ticket ticket;
    try {
      ticket = admission.admit(declared);
    } catch (ServingException full) {
      return Future.failedFuture(full);
    }
    request.response().endHandler(v -> ticket.release()).closeHandler(v -> ticket.release());
    Read read = new Read(declared, arrivedNanos + timeoutNanos, declared < 0 ? ticket : null);
    read.watch = expiry.watch(read);
    request.handler(read::append);
    request.endHandler(v -> read.finish());
    request.exceptionHandler(read::fail);
    return read.promise.future();
  }

  private Refused tooLarge() {
    return new Refused(413, StatusCode.RESOURCE_EXHAUSTED,
        "Request body is larger than the limit of " + maxBytes + " bytes");
  }

  /**
   * One body being read, straight into the array the JSON parser reads: of its declared length
   * at once (already charged to the memory budget, so no copies as it grows, and none at the end).
   */
  private final class Read implements ExpiryWatch.Expiring {
    final Promise<byte[]> promise = Promise.promise();
    final long expiresAt;
    /** Charged as chunks arrive, for a body of no declared length; null when charged up front. */
    final Admission.Ticket chargedPerChunk;
    byte[] body;
    int length;
    ExpiryWatch.Watch watch;

    Read(long declared, long expiresAt, Admission.Ticket chargedPerChunk) {
      this.body = new byte[declared >= 0 ? (int) declared : FIRST_ALLOCATION];
      this.expiresAt = expiresAt;
      this.chargedPerChunk = chargedPerChunk;
    }

    void append(Buffer chunk) {
      if (promise.future().isComplete()) {
        return;
      }
      int size = chunk.length();
      if (length + (long) size > maxBytes || chargedPerChunk == null && length + size > body.length) {
        fail(tooLarge());
        return;
      }
      if (chargedPerChunk != null) {
        try {
          chargedPerChunk.charge(size, Admission.MEMORY_PER_BODY_BYTE);
        } catch (ServingException full) {
          fail(full);
          return;
        }
        if (length + size > body.length) {
          body = Arrays.copyOf(body, (int) Math.min(maxBytes, Math.max(2L * body.length, length + size)));
        }
      }
      chunk.getBytes(0, size, body, length);
      length += size;
    }

    void finish() {
      watch.end();
      promise.tryComplete(length == body.length ? body : Arrays.copyOf(body, length));
    }

    void fail(Throwable failure) {
      watch.end();
      promise.tryFail(failure);
    }

    @Override
    public long expiresAtNanos() {
      return expiresAt;
    }

    @Override
    public void expire() {
      promise.tryFail(new Refused(408, StatusCode.DEADLINE_EXCEEDED,
          "The request body did not arrive within " + timeoutNanos / 1_000_000 + " ms"));
    }
  }

  /**
   * A request refused for how its body came: answered with {@code httpStatus}, after which the
   * connection is closed, since the rest of that body would otherwise be read as the next request.
   */
  static final class Refused extends RuntimeException {
    final int httpStatus;
    final StatusCode code;

    Refused(int httpStatus, StatusCode code, String message) {
      super(message, null, false, false);
      this.httpStatus = httpStatus;
      this.code = code;
    }
  }
}
