package io.infergate.gateway.rest;

import io.infergate.common.ServableId;

/**
 * A successful REST answer: its status, JSON body, and the servable that produced it (null
 * when none did), which names the version in metrics.
 */
record Reply(int httpStatus, byte[] body, ServableId servedBy) {

  static Reply ok(byte[] body, ServableId servedBy) {
    return new Reply(200, body, servedBy);
  }
}
