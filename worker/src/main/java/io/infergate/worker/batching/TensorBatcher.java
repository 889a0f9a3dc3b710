package io.infergate.worker.batching;

import com.google.protobuf.ByteString;
import io.infergate.common.TensorLimits;
import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.infergate.worker.runtime.SignatureRun;
import io.infergate.worker.runtime.TensorProtos;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Merges the calls of a batch into one (inputs concatenated along dimension 0, padded with
 * copies of the first row up to the run size) and splits the outputs back per call.
 */
public final class TensorBatcher {

  private TensorBatcher() {}

  /** One call carrying every row of {@code runs}, padded to {@code paddedRows}. */
  public static SignatureRun merge(List<SignatureRun> runs, int paddedRows, boolean padVariableLength) {
    SignatureRun first = runs.get(0);
    Map<String, TensorProto> merged = new LinkedHashMap<>();
    for (String input : first.inputs().keySet()) {
      List<TensorProto> parts = new ArrayList<>(runs.size());
      runs.forEach(run -> parts.add(run.inputs().get(input)));
      merged.put(input, concat(parts, paddedRows, padVariableLength));
    }
    return new SignatureRun(first.signatureKey(), first.signature(), merged, first.outputs());
  }

  /** Each call's rows of every output, in order; padding rows are dropped. */
  public static List<Map<String, TensorProto>> split(Map<String, TensorProto> outputs, long[] rowsPerRun,
                                                     long paddedRows) {
    List<Map<String, TensorProto>> results = new ArrayList<>(rowsPerRun.length);
    for (int i = 0; i < rowsPerRun.length; i++) {
      results.add(new LinkedHashMap<>());
    }
    for (Map.Entry<String, TensorProto> output : outputs.entrySet()) {
      TensorProto tensor = TensorProtos.canonical(output.getValue());
      if (tensor.getTensorShape().getDimCount() == 0 || tensor.getTensorShape().getDim(0).getSize() != paddedRows) {
        throw new ServingException(StatusCode.INTERNAL, "Batched output '" + output.getKey()
            + "' must have the batch size " + paddedRows + " as its 0-th dimension, but has shape "
            + TensorProtos.dims(tensor));
      }
      long rowElements = TensorProtos.elementCount(tensor) / paddedRows;
      long row = 0;
      for (int i = 0; i < rowsPerRun.length; i++) {
        results.get(i).put(output.getKey(), slice(tensor, row, rowsPerRun[i], rowElements));
        row += rowsPerRun[i];
      }
    }
    return results;
  }

  /** The shape below dimension 0 that calls must share to be batched together (or its rank, when padding). */
  static String innerShapeKey(TensorProto tensor, boolean padVariableLength) {
    long[] dims = TensorProtos.dims(tensor);
    return padVariableLength ? tensor.getDtype() + "/rank" + dims.length
        : tensor.getDtype() + Arrays.toString(Arrays.copyOfRange(dims, 1, dims.length));
  }

  private static TensorProto concat(List<TensorProto> parts, int paddedRows, boolean padVariableLength) {
    List<TensorProto> normalized = new ArrayList<>(parts.size());
    parts.forEach(part -> normalized.add(TensorProtos.canonical(part)));
    long[] inner = Arrays.copyOfRange(TensorProtos.dims(normalized.get(0)), 1, TensorProtos.dims(normalized.get(0)).length);
    if (padVariableLength) {
      for (TensorProto part : normalized) {
        long[] dims = TensorProtos.dims(part);
        for (int d = 0; d < inner.length; d++) {
          inner[d] = Math.max(inner[d], dims[d + 1]);
        }
      }
      // Each call passed the limits alone; padded to each other's widest dimensions they may not.
      checkPadded(normalized.get(0).getDtype(), paddedRows, inner);
      for (int i = 0; i < normalized.size(); i++) {
        normalized.set(i, padInner(normalized.get(i), inner));
      }
    }
    TensorProto head = normalized.get(0);
    long rows = 0;
    for (TensorProto part : normalized) {
      rows += TensorProtos.dims(part)[0];
    }
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    shape.addDimBuilder().setSize(paddedRows);
    for (long dim : inner) {
      shape.addDimBuilder().setSize(dim);
    }
    TensorProto.Builder out = TensorProto.newBuilder().setDtype(head.getDtype()).setTensorShape(shape);
    long padding = paddedRows - rows;
    if (head.getDtype() == DataType.DT_STRING) {
      normalized.forEach(part -> out.addAllStringVal(part.getStringValList()));
      long rowElements = TensorProtos.elementCount(head) / Math.max(1, TensorProtos.dims(head)[0]);
      for (long p = 0; p < padding; p++) {
        out.addAllStringVal(head.getStringValList().subList(0, (int) rowElements));
      }
      return out.build();
    }
    ByteString content = ByteString.EMPTY;
    for (TensorProto part : normalized) {
      content = content.concat(part.getTensorContent());
    }
    long rowBytes = head.getTensorContent().size() / Math.max(1, TensorProtos.dims(head)[0]);
    ByteString firstRow = head.getTensorContent().substring(0, (int) rowBytes);
    for (long p = 0; p < padding; p++) {
      content = content.concat(firstRow);
    }
    return out.setTensorContent(content).build();
  }

  private static void checkPadded(DataType dtype, long rows, long[] inner) {
    TensorShapeProto.Builder padded = TensorShapeProto.newBuilder();
    padded.addDimBuilder().setSize(rows);
    for (long dim : inner) {
      padded.addDimBuilder().setSize(dim);
    }
    TensorLimits.NATIVE.checkShape("padded batch", dtype, padded.build());
  }

  /** Copies a tensor into a larger inner shape, filling the new cells with zeros (or empty strings). */
  private static TensorProto padInner(TensorProto tensor, long[] inner) {
    long[] dims = TensorProtos.dims(tensor);
    long[] target = new long[dims.length];
    target[0] = dims[0];
    System.arraycopy(inner, 0, target, 1, inner.length);
    if (Arrays.equals(dims, target)) {
      return tensor;
    }
    long count = 1;
    for (long dim : target) {
      count *= dim;
    }
    boolean strings = tensor.getDtype() == DataType.DT_STRING;
    int size = strings ? 0 : TensorProtos.elementSize(tensor.getDtype());
    ByteString[] stringCells = strings ? new ByteString[(int) count] : null;
    byte[] bytes = strings ? null : new byte[Math.toIntExact(count * size)];
    if (strings) {
      Arrays.fill(stringCells, ByteString.EMPTY);
    }
    long sourceCount = TensorProtos.elementCount(tensor);
    long[] index = new long[dims.length];
    for (long source = 0; source < sourceCount; source++) {
      long rest = source;
      for (int d = dims.length - 1; d >= 0; d--) {
        index[d] = rest % dims[d];
        rest /= dims[d];
      }
      long dest = 0;
      for (int d = 0; d < dims.length; d++) {
        dest = dest * target[d] + index[d];
      }
      if (strings) {
        stringCells[(int) dest] = tensor.getStringVal((int) source);
      } else {
        tensor.getTensorContent().copyTo(bytes, (int) (source * size), (int) (dest * size), size);
      }
    }
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    Arrays.stream(target).forEach(d -> shape.addDimBuilder().setSize(d));
    TensorProto.Builder out = TensorProto.newBuilder().setDtype(tensor.getDtype()).setTensorShape(shape);
    return strings ? out.addAllStringVal(Arrays.asList(stringCells)).build()
        : out.setTensorContent(ByteString.copyFrom(bytes)).build();
  }

  private static TensorProto slice(TensorProto tensor, long fromRow, long rows, long rowElements) {
    TensorShapeProto.Builder shape = tensor.getTensorShape().toBuilder();
    shape.getDimBuilder(0).setSize(rows);
    TensorProto.Builder out = TensorProto.newBuilder().setDtype(tensor.getDtype()).setTensorShape(shape);
    int from = Math.toIntExact(fromRow * rowElements);
    int to = Math.toIntExact((fromRow + rows) * rowElements);
    if (tensor.getDtype() == DataType.DT_STRING) {
      return out.addAllStringVal(tensor.getStringValList().subList(from, to)).build();
    }
    int size = TensorProtos.elementSize(tensor.getDtype());
    return out.setTensorContent(tensor.getTensorContent().substring(from * size, to * size)).build();
  }
}
