package io.infergate.app;

import io.infergate.gateway.GatewayOptions;
import io.infergate.worker.WorkerOptions;

/** The validated configuration of a single-process server (gateway and worker in one JVM). */
record ServeOptions(GatewayOptions gateway, WorkerOptions worker, int eventLoops) {
}
