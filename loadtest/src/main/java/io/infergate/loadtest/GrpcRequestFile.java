package io.infergate.loadtest;

import com.google.protobuf.ByteString;
import io.infergate.proto.serving.ModelSpec;
import io.infergate.proto.serving.PredictRequest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Writes one gRPC-framed {@code tensorflow.serving.PredictRequest} for the demo CTR model (one
 * instance, features as tensor_content), the body h2load sends on every stream.
 *
 * <p>Usage: {@code GrpcRequestFile OUT_FILE [MODEL]}
 */
public final class GrpcRequestFile {

  private GrpcRequestFile() {}

  public static void main(String[] args) throws IOException {
    String model = args.length > 1 ? args[1] : "ctr";
    float[] user = {0.5f, -1.0f, 0.2f, 0.0f, 1.0f, 0.3f, -0.2f, 0.9f};
    float[] item = {1.2f, 0.1f, -0.4f, 0.7f, 0.0f, -1.1f, 0.5f, 0.3f};
    byte[] message = PredictRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName(model))
        .putInputs("user_features", features(user))
        .putInputs("item_features", features(item))
        .build().toByteArray();
    // gRPC framing: a compressed-flag byte, then the big-endian message length.
    ByteBuffer framed = ByteBuffer.allocate(5 + message.length).put((byte) 0).putInt(message.length).put(message);
    Files.write(Path.of(args[0]), framed.array());
  }

  private static TensorProto features(float[] values) {
    ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float value : values) {
      bytes.putFloat(value);
    }
    return TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
        .setTensorShape(TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(1))
            .addDim(TensorShapeProto.Dim.newBuilder().setSize(values.length)))
        .setTensorContent(ByteString.copyFrom(bytes.array())).build();
  }
}
