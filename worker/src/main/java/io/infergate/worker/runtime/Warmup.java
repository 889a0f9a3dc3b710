package io.infergate.worker.runtime;

import io.infergate.common.Signatures;
import io.infergate.common.SyntheticInputs;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.proto.serving.PredictionLog;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.proto.SignatureDef;

/**
 * Runs requests through a freshly loaded servable before it takes traffic, so the first real
 * request does not pay for TensorFlow's lazy initialisation. The requests come from
 * {@code assets.extra/tf_serving_warmup_requests} (a TFRecord of PredictionLog, as TF Serving
 * reads it), or else one synthetic request is built from the default signature.
 */
public final class Warmup {

  static final String WARMUP_FILE = "assets.extra/tf_serving_warmup_requests";
  private static final int MAX_RECORDS = 1000;
  private static final Logger LOG = LoggerFactory.getLogger(Warmup.class);

  private Warmup() {}

  /**
   * Replays the warmup requests {@code iterations} times. A failing record fails the load, as
   * in TF Serving; a failing synthetic request is only logged, since it was a guess.
   */
  public static Result run(SavedModelServable servable, Path versionDir, int iterations) throws IOException {
    Path file = versionDir.resolve(WARMUP_FILE);
    if (Files.isRegularFile(file)) {
      List<Object> requests = readRequests(file);
      Set<String> devices = requests.isEmpty() ? Set.of() : servable.devices(servable.prepare(requests.get(0)).run());
      for (int i = 0; i < Math.max(1, iterations); i++) {
        requests.forEach(servable::call);
      }
      return new Result(requests.size(), devices);
    }
    PredictRequest synthetic = syntheticRequest(servable);
    if (synthetic == null) {
      return new Result(0, Set.of());
    }
    try {
      return new Result(1, servable.devices(servable.prepare(synthetic).run()));
    } catch (RuntimeException e) {
      LOG.warn("Synthetic warmup request for {} failed (the model still loads): {}", servable.id(), e.getMessage());
      return new Result(0, Set.of());
    }
  }

  /** How many requests warmed the servable up, and the devices TensorFlow ran them on. */
  public record Result(int requests, Set<String> devices) {}

  static List<Object> readRequests(Path file) throws IOException {
    List<Object> requests = new ArrayList<>();
    try (InputStream in = Files.newInputStream(file)) {
      for (byte[] record : TfRecords.read(in, MAX_RECORDS)) {
        PredictionLog log = PredictionLog.parseFrom(record);
        switch (log.getLogTypeCase()) {
          case PREDICT_LOG -> requests.add(log.getPredictLog().getRequest());
          case CLASSIFY_LOG -> requests.add(log.getClassifyLog().getRequest());
          case REGRESS_LOG -> requests.add(log.getRegressLog().getRequest());
          default -> throw new IOException("Warmup record " + requests.size() + " is a "
              + log.getLogTypeCase() + ", which Infergate does not replay");
        }
      }
    }
    return requests;
  }

  /** One row of zeros (or empty strings) per input of serving_default; null when it has none. */
  static PredictRequest syntheticRequest(SavedModelServable servable) {
    SignatureDef signature = servable.signatures().getSignatureDefMap().get(Signatures.DEFAULT_KEY);
    if (signature == null) {
      return null;
    }
    return SyntheticInputs.tensors(signature, 1)
        .map(inputs -> PredictRequest.newBuilder().putAllInputs(inputs).build()).orElse(null);
  }
}
