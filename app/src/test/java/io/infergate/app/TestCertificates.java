package io.infergate.app;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** A certificate authority for tests, and the server and client certificates it issues, as PEM files. */
final class TestCertificates {

  /** A certificate and its key, as PEM files. */
  record Issued(Path cert, Path key) {}

  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

  private final Path dir;
  private final KeyPair caKeys;
  private final X500Name caName;
  private final Path caFile;

  private TestCertificates(Path dir, String name) throws Exception {
    this.dir = dir;
    this.caKeys = keys();
    this.caName = new X500Name("CN=" + name);
    X509v3CertificateBuilder builder = builder(caName, caName, caKeys);
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    this.caFile = write(dir.resolve(name + "-ca.pem"), sign(builder, caKeys));
  }

  /** A new CA whose files go into {@code dir}. */
  static TestCertificates authority(Path dir, String name) throws Exception {
    return new TestCertificates(dir, name);
  }

  Path caCert() {
    return caFile;
  }

  /**
   * A certificate for {@code name}, valid for TLS servers and clients alike, naming each of
   * {@code hosts} (DNS names or IP addresses) as a subject alternative name.
   */
  Issued issue(String name, String... hosts) throws Exception {
    KeyPair keys = keys();
    X509v3CertificateBuilder builder = builder(caName, new X500Name("CN=" + name), keys);
    GeneralName[] names = new GeneralName[hosts.length];
    for (int i = 0; i < hosts.length; i++) {
      boolean ip = hosts[i].matches("[0-9.]+|.*:.*");
      names[i] = ip ? new GeneralName(GeneralName.iPAddress, InetAddress.getByName(hosts[i]).getHostAddress())
          : new GeneralName(GeneralName.dNSName, hosts[i]);
    }
    if (names.length > 0) {
      builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
    }
    builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
    builder.addExtension(Extension.extendedKeyUsage, false,
        new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
    X509Certificate cert = sign(builder, caKeys);
    Path certFile = write(dir.resolve(name + ".pem"), cert);
    Path keyFile = write(dir.resolve(name + "-key.pem"), new JcaPKCS8Generator(keys.getPrivate(), null));
    return new Issued(certFile, keyFile);
  }

  private static KeyPair keys() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(256);
    return generator.generateKeyPair();
  }

  private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair keys) {
    Instant now = Instant.now();
    return new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(SERIAL.incrementAndGet()),
        Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(1))), subject, keys.getPublic());
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair issuer)
      throws OperatorCreationException, GeneralSecurityException {
    return new JcaX509CertificateConverter().getCertificate(
        builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuer.getPrivate())));
  }

  private static Path write(Path file, Object pem) throws IOException {
    StringWriter text = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
      writer.writeObject(pem);
    }
    return Files.writeString(file, text.toString());
  }
}
