package io.infergate.worker.runtime;

import io.infergate.common.status.ServingException;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;
import org.tensorflow.types.family.TType;

/** The TensorFlow dtypes Infergate serves, and the TF Java type of each. */
final class DataTypes {

  private DataTypes() {}

  static Class<? extends TType> tensorType(DataType dtype) {
    return switch (dtype) {
      case DT_FLOAT -> TFloat32.class;
      case DT_DOUBLE -> TFloat64.class;
      case DT_INT32 -> TInt32.class;
      case DT_INT64 -> TInt64.class;
      case DT_BOOL -> TBool.class;
      case DT_STRING -> TString.class;
      default -> throw unsupported(dtype);
    };
  }

  /** Bytes per element of a fixed-size dtype. */
  static int elementSize(DataType dtype) {
    return switch (dtype) {
      case DT_FLOAT, DT_INT32 -> 4;
      case DT_DOUBLE, DT_INT64 -> 8;
      case DT_BOOL -> 1;
      default -> throw unsupported(dtype);
    };
  }

  static ServingException unsupported(DataType dtype) {
    return ServingException.invalidArgument("Unsupported dtype " + dtype
        + ": Infergate serves DT_FLOAT, DT_DOUBLE, DT_INT32, DT_INT64, DT_BOOL and DT_STRING");
  }
}
