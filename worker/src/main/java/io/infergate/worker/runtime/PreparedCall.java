package io.infergate.worker.runtime;

import com.google.protobuf.Message;
import java.util.Map;
import java.util.function.Function;
import org.tensorflow.proto.TensorProto;

/**
 * A request made ready to run: the signature call, and how its outputs become the reply of
 * the API it came from (PredictResponse, ClassificationResponse or RegressionResponse).
 */
public record PreparedCall(SignatureRun run, Function<Map<String, TensorProto>, Message> reply) {

  public Message finish(Map<String, TensorProto> outputs) {
    return reply.apply(outputs);
  }
}
