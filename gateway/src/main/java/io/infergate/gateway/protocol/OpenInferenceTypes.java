package io.infergate.gateway.protocol;

import io.infergate.common.status.ServingException;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorShapeProto;

/** Tensor datatypes of the Open Inference Protocol and their TF dtypes. */
public final class OpenInferenceTypes {

  private OpenInferenceTypes() {}

  public static DataType toDataType(String datatype, String input) {
    return switch (datatype) {
      case "FP32" -> DataType.DT_FLOAT;
      case "FP64" -> DataType.DT_DOUBLE;
      case "INT32" -> DataType.DT_INT32;
      case "INT64" -> DataType.DT_INT64;
      case "BOOL" -> DataType.DT_BOOL;
      case "BYTES" -> DataType.DT_STRING;
      default -> throw ServingException.invalidArgument("Input '" + input + "' has datatype " + datatype
          + "; supported are FP32, FP64, INT32, INT64, BOOL and BYTES");
    };
  }

  /** A signature tensor's shape, -1 for unknown dimensions, [-1] when even the rank is unknown. */
  public static long[] shape(TensorInfo info) {
    return info.getTensorShape().getUnknownRank() ? new long[] {-1}
        : info.getTensorShape().getDimList().stream().mapToLong(TensorShapeProto.Dim::getSize).toArray();
  }

  public static String toDatatype(DataType dtype) {
    return switch (dtype) {
      case DT_FLOAT -> "FP32";
      case DT_DOUBLE -> "FP64";
      case DT_INT32 -> "INT32";
      case DT_INT64 -> "INT64";
      case DT_BOOL -> "BOOL";
      case DT_STRING -> "BYTES";
      case DT_INT8 -> "INT8";
      case DT_INT16 -> "INT16";
      case DT_UINT8 -> "UINT8";
      case DT_HALF -> "FP16";
      case DT_BFLOAT16 -> "BF16";
      default -> dtype.name();
    };
  }
}
