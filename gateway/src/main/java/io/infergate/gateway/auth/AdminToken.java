package io.infergate.gateway.auth;

import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * The bearer token that guards model management: the admin API and gRPC's
 * HandleReloadConfigRequest. Without a configured token, model management is off.
 */
public final class AdminToken {

  private static final String BEARER = "Bearer ";

  private final byte[] token;

  /** @param token the configured token, or null when model management is off */
  public AdminToken(String token) {
    this.token = token == null || token.isEmpty() ? null : token.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Lets a caller through with the right {@code Authorization: Bearer <token>}.
   *
   * @throws ServingException PERMISSION_DENIED when model management is off, UNAUTHENTICATED for
   *     a missing or wrong token
   */
  public void check(String authorization) {
    if (token == null) {
      throw new ServingException(StatusCode.PERMISSION_DENIED,
          "Model management is off; start the gateway with --admin_token to turn it on");
    }
    byte[] given = authorization != null && authorization.startsWith(BEARER)
        ? authorization.substring(BEARER.length()).getBytes(StandardCharsets.UTF_8) : new byte[0];
    // Compared in constant time, so the answer's timing tells nothing of the token.
    if (!MessageDigest.isEqual(token, given)) {
      throw new ServingException(StatusCode.UNAUTHENTICATED, "Missing or wrong admin token");
    }
  }
}
