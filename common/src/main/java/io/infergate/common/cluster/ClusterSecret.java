package io.infergate.common.cluster;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The secret every member of one Infergate cluster shares. Hazelcast's open-source edition has no
 * member authentication, so the secret does two jobs instead: the Hazelcast cluster name is
 * derived from it (a process without it asks to join a cluster of another name and is turned
 * away), and every registry entry carries an HMAC-SHA256 made with it (an entry without a valid
 * one is ignored, so a process that got in anyway cannot announce a servable or move a label).
 */
public final class ClusterSecret {

  /** Bytes of HMAC-SHA256. */
  public static final int MAC_BYTES = 32;
  /** The least a secret may be: 128 bits of a random hex string. */
  public static final int MIN_LENGTH = 32;

  private static final String ALGORITHM = "HmacSHA256";

  private final SecretKeySpec key;

  public ClusterSecret(String secret) {
    if (secret.length() < MIN_LENGTH) {
      throw new IllegalArgumentException("A cluster secret needs at least " + MIN_LENGTH + " characters");
    }
    this.key = new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), ALGORITHM);
  }

  /** The Hazelcast cluster name of {@code name} under this secret. */
  public String clusterName(String name) {
    return name + "-" + HexFormat.of().formatHex(mac("cluster-name", name.getBytes(StandardCharsets.UTF_8)), 0, 8);
  }

  /** HMAC-SHA256 of {@code context} and {@code payload} (the context binds a value to where it is stored). */
  public byte[] mac(String context, byte[] payload) {
    try {
      Mac mac = Mac.getInstance(ALGORITHM);
      mac.init(key);
      mac.update(context.getBytes(StandardCharsets.UTF_8));
      mac.update((byte) 0);
      return mac.doFinal(payload);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }

  /** Whether {@code expected} is the MAC of context and payload, compared in constant time. */
  public boolean verify(String context, byte[] payload, byte[] expected) {
    return MessageDigest.isEqual(mac(context, payload), expected);
  }

  /** Payload and MAC as one value: the MAC first. */
  public byte[] seal(String context, byte[] payload) {
    byte[] mac = mac(context, payload);
    byte[] sealed = Arrays.copyOf(mac, MAC_BYTES + payload.length);
    System.arraycopy(payload, 0, sealed, MAC_BYTES, payload.length);
    return sealed;
  }

  /** The payload of a sealed value, or null when its MAC does not hold (forged, altered or moved). */
  public byte[] open(String context, byte[] sealed) {
    if (sealed == null || sealed.length < MAC_BYTES) {
      return null;
    }
    byte[] payload = Arrays.copyOfRange(sealed, MAC_BYTES, sealed.length);
    return verify(context, payload, Arrays.copyOf(sealed, MAC_BYTES)) ? payload : null;
  }
}
