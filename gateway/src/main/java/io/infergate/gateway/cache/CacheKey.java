package io.infergate.gateway.cache;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import io.infergate.common.ServableId;
import io.infergate.proto.serving.PredictRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.tensorflow.proto.TensorProto;

/**
 * What a cached answer is the answer to: the servable (model and version), the signature, the
 * output filter and the inputs, as bytes that do not depend on the order a client wrote them in
 * (inputs and filters sorted, each tensor serialized deterministically). Two requests with the
 * same key get the same answer from the same servable.
 */
public final class CacheKey {

  /** Where shared answers are kept in Redis. */
  private static final String SHARED_PREFIX = "infergate:answer:";

  private final ServableId servable;
  private final ByteString bytes;
  /** Computed on first use: a miss looks it up and then stores under it. */
  private String sharedName;

  CacheKey(ServableId servable, ByteString bytes) {
    this.servable = servable;
    this.bytes = bytes;
  }

  public ServableId servable() {
    return servable;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof CacheKey key && key.servable.equals(servable) && key.bytes.equals(bytes);
  }

  @Override
  public int hashCode() {
    return 31 * servable.hashCode() + bytes.hashCode();
  }

  public static CacheKey of(ServableId servable, String signatureName, PredictRequest request) {
    ByteString.Output out = ByteString.newOutput(64 + request.getSerializedSize());
    CodedOutputStream coded = CodedOutputStream.newInstance(out);
    try {
      coded.writeStringNoTag(servable.name());
      coded.writeInt64NoTag(servable.version());
      coded.writeStringNoTag(signatureName);
      List<String> filter = new ArrayList<>(request.getOutputFilterList());
      filter.sort(null);
      coded.writeUInt32NoTag(filter.size());
      for (String output : filter) {
        coded.writeStringNoTag(output);
      }
      Map<String, TensorProto> inputs = new TreeMap<>(request.getInputsMap());
      coded.writeUInt32NoTag(inputs.size());
      coded.useDeterministicSerialization();
      for (Map.Entry<String, TensorProto> input : inputs.entrySet()) {
        coded.writeStringNoTag(input.getKey());
        coded.writeMessageNoTag(input.getValue());
      }
      coded.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("Writing to memory does not fail", e);
    }
    return new CacheKey(servable, out.toByteString());
  }

  /** The key's name in the shared store: model, version and a SHA-256 of the bytes. */
  public String sharedName() {
    if (sharedName == null) {
      try {
        MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
        sha256.update(bytes.asReadOnlyByteBuffer());
        sharedName = SHARED_PREFIX + servable.name() + ':' + servable.version() + ':'
            + HexFormat.of().formatHex(sha256.digest());
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("SHA-256 is part of every JDK", e);
      }
    }
    return sharedName;
  }

  /** Memory the key holds, roughly. */
  int weight() {
    return bytes.size() + 64;
  }
}
