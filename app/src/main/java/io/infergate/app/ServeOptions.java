package io.infergate.app;

import io.infergate.gateway.GatewayOptions;
import io.infergate.worker.WorkerOptions;

/**
 * The validated configuration of a single-process server (gateway and worker in one JVM).
 *
 * @param blockingThreads the size of Vert.x's worker and internal blocking pools; 0 for Vert.x's defaults
 */
record ServeOptions(GatewayOptions gateway, WorkerOptions worker, int eventLoops, int blockingThreads) {
}
