package io.infergate.gateway.rest;

import io.infergate.gateway.routing.VersionSelector;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;

/**
 * Takes {@code POST /v1/models/{model}[/versions/{v}|/labels/{l}]:predict} straight to the
 * predict endpoint, without vertx-web's router: the router's per-request context, route matching
 * and body handler took a tenth of the event loops' time at peak (measured). Everything else,
 * and any predict request it does not recognise at a glance (other letter case, escaped
 * characters, no or too large Content-Length), goes through the router as before.
 */
final class PredictFastPath {

  private static final String PREFIX = "/v1/models/";
  private static final String SUFFIX = ":predict";

  private final TfServingRestApi api;
  private final RestEndpoints endpoints;
  private final long maxBodyBytes;

  PredictFastPath(TfServingRestApi api, RestEndpoints endpoints, long maxBodyBytes) {
    this.api = api;
    this.endpoints = endpoints;
    this.maxBodyBytes = maxBodyBytes;
  }

  /** Handles the request and returns true, or returns false and leaves it to the router. */
  boolean handle(HttpServerRequest request) {
    if (request.method() != HttpMethod.POST) {
      return false;
    }
    String path = request.path();
    if (!path.startsWith(PREFIX) || !path.endsWith(SUFFIX) || path.indexOf('%') >= 0
        || !hasAcceptableLength(request.getHeader(HttpHeaders.CONTENT_LENGTH))) {
      return false;
    }
    String[] parts = path.substring(PREFIX.length(), path.length() - SUFFIX.length()).split("/", -1);
    String version = null;
    String label = null;
    if (parts.length == 3 && parts[1].equals("versions")) {
      version = parts[2];
    } else if (parts.length == 3 && parts[1].equals("labels")) {
      label = parts[2];
    } else if (parts.length != 1) {
      return false;
    }
    for (String part : parts) {
      if (part.isEmpty() || part.indexOf(':') >= 0) {
        return false;
      }
    }
    String model = parts[0];
    VersionSelector selector = VersionSelector.of(version, label);
    request.body().onComplete(body -> endpoints.answer("predict", model, request.response(), () -> body.failed()
        ? Future.failedFuture(body.cause())
        : api.predict(model, selector, RestEndpoints.bytes(body.result()), request::getHeader)));
    return true;
  }

  private boolean hasAcceptableLength(String contentLength) {
    try {
      return contentLength != null && Long.parseLong(contentLength) <= maxBodyBytes;
    } catch (NumberFormatException e) {
      return false;
    }
  }
}
