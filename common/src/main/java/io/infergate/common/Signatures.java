package io.infergate.common;

import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.infergate.proto.serving.SignatureDefMap;
import org.tensorflow.proto.SignatureDef;

/** Finding a servable's signatures by key, with TF Serving's default and error wording. */
public final class Signatures {

  public static final String DEFAULT_KEY = "serving_default";

  private Signatures() {}

  /** The key a request means: its own, or serving_default when it names none. */
  public static String keyOrDefault(String requested) {
    return requested == null || requested.isEmpty() ? DEFAULT_KEY : requested;
  }

  public static SignatureDef find(SignatureDefMap signatures, String requested) {
    String key = keyOrDefault(requested);
    SignatureDef signature = signatures.getSignatureDefMap().get(key);
    if (signature == null) {
      throw new ServingException(StatusCode.FAILED_PRECONDITION,
          "Serving signature key \"" + key + "\" not found.");
    }
    return signature;
  }
}
