package io.infergate.worker.runtime;

import io.infergate.common.TensorLimits;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;
import org.tensorflow.types.family.TType;

/** The TF Java type of each dtype Infergate serves ({@link TensorLimits} lists them). */
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
      default -> throw TensorLimits.unsupported(dtype);
    };
  }

}
