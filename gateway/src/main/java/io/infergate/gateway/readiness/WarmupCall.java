package io.infergate.gateway.readiness;

import io.vertx.core.buffer.Buffer;
import java.util.function.IntFunction;

/**
 * One kind of request the warm-up sends, again and again: to a model over one protocol, with its
 * features fetched or supplied.
 *
 * @param protocol rest_predict, rest_infer, grpc_predict or grpc_infer
 * @param path the HTTP path (for gRPC, the method's)
 * @param body the body of the request with a given sequence number (entity ids and values differ, so
 *     no response cache answers in the worker's place)
 */
record WarmupCall(String model, String protocol, boolean grpc, String path, IntFunction<Buffer> body) {}
