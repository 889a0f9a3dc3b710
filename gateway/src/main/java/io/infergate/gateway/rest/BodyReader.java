package io.infergate.gateway.rest;

import io.infergate.common.status.StatusCode;
import io.infergate.gateway.admission.ExpiryWatch;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;

/**
 * Reads a REST request's body whole, the same way for every endpoint and whatever its
 * Content-Type: at most {@code maxBytes} (a body declared larger is refused before a byte of it
 * is read), and complete within {@code timeoutMillis} of the request's arrival, so a client
 * that sends slowly cannot hold a connection and its buffer forever.
 */
final class BodyReader {

  /** Buffer first allocated for a body: a declared length is a claim, not a promise to send. */
  private static final int FIRST_ALLOCATION = 1 << 20;

  private final long maxBytes;
  private final long timeoutNanos;
  private final ExpiryWatch expiry;

  BodyReader(long maxBytes, long timeoutMillis, ExpiryWatch expiry) {
    this.maxBytes = maxBytes;
    this.timeoutNanos = timeoutMillis * 1_000_000;
    this.expiry = expiry;
  }

  /** The body; fails with a {@link Refused} (413, 408, 400) when it breaks a limit. */
  Future<Buffer> read(HttpServerRequest request, long arrivedNanos) {
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
    Read read = new Read(declared, arrivedNanos + timeoutNanos);
    request.handler(read::append);
    request.endHandler(v -> read.finish());
    request.exceptionHandler(read::fail);
    expiry.watch(read);
    return read.promise.future();
  }

  private Refused tooLarge() {
    return new Refused(413, StatusCode.RESOURCE_EXHAUSTED,
        "Request body is larger than the limit of " + maxBytes + " bytes");
  }

  private final class Read implements ExpiryWatch.Expiring {
    final Promise<Buffer> promise = Promise.promise();
    final Buffer body;
    final long expiresAt;

    Read(long declared, long expiresAt) {
      this.body = Buffer.buffer((int) Math.max(0, Math.min(declared, FIRST_ALLOCATION)));
      this.expiresAt = expiresAt;
    }

    void append(Buffer chunk) {
      if (promise.future().isComplete()) {
        return;
      }
      if (body.length() + (long) chunk.length() > maxBytes) {
        fail(tooLarge());
        return;
      }
      body.appendBuffer(chunk);
    }

    void finish() {
      expiry.unwatch(this);
      promise.tryComplete(body);
    }

    void fail(Throwable failure) {
      expiry.unwatch(this);
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
