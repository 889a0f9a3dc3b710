package io.infergate.app;

import io.infergate.common.config.ConfigException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;

/** PEM text read and checked at start, so a bad certificate or key stops the process with a clear message. */
final class Pem {

  private Pem() {}

  static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new ConfigException("Cannot read " + file + ": " + e.getMessage());
    }
  }

  /** PEM text of one or more X.509 certificates. */
  static String certificates(String pem, Object source) {
    try {
      if (CertificateFactory.getInstance("X.509")
          .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII))).isEmpty()) {
        throw new ConfigException(source + " holds no PEM certificate");
      }
      return pem;
    } catch (CertificateException e) {
      throw new ConfigException(source + " holds no valid PEM certificate: " + e.getMessage());
    }
  }

  /** PEM text of a private key: PKCS#8, or PKCS#1 RSA, or SEC 1 EC. */
  static String key(String pem) {
    if (!pem.matches("(?s).*-----BEGIN (RSA |EC )?PRIVATE KEY-----.*")) {
      throw new ConfigException("The TLS key is not a PEM private key (PKCS#8, RSA or EC); an encrypted key "
          + "cannot be used");
    }
    return pem;
  }
}
