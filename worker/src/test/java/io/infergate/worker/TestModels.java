package io.infergate.worker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.tensorflow.Graph;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;

/**
 * Models for tests: TF Serving's own (read from ../shared/testdata beside the project root,
 * never copied) and small ones exported here with TF Java.
 */
public final class TestModels {

  private TestModels() {}

  /** A model base path from TF Serving's test data. */
  public static Path tfServing(String name) {
    Path root = Path.of(System.getProperty("infergate.root", "..")).toAbsolutePath().normalize();
    Path path = root.resolve("../shared/testdata/tfserving").resolve(name).normalize();
    if (!Files.isDirectory(path)) {
      throw new IllegalStateException("TF Serving test model not found at " + path
          + " (expected ../shared/testdata/tfserving beside the project root)");
    }
    return path;
  }

  /**
   * Exports "multi_io" as version 1 under {@code basePath}: inputs a and b (float [-1,2]),
   * outputs sum = a + b ([-1,2]) and dot = sum(a * b, axis 1) ([-1]).
   */
  public static Path exportMultiIo(Path basePath) {
    return export(basePath.resolve("1"), (tf, sig) -> {
      Placeholder<TFloat32> a = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 2)));
      Placeholder<TFloat32> b = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 2)));
      sig.input("a", a).input("b", b)
          .output("sum", tf.math.add(a, b))
          .output("dot", tf.reduceSum(tf.math.mul(a, b), tf.constant(1)));
    });
  }

  /**
   * Exports "typed" as version 1: one input of every served dtype, each [-1], and outputs
   * ids_plus_one (int64), counts_doubled (int32), word_lengths (int32), echo_bytes (string,
   * named to come back base64), flags_not (bool) and scale_twice (double).
   */
  public static Path exportTyped(Path basePath) {
    return export(basePath.resolve("1"), (tf, sig) -> {
      var ids = tf.placeholder(TInt64.class, Placeholder.shape(Shape.of(-1)));
      var counts = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
      var words = tf.placeholder(TString.class, Placeholder.shape(Shape.of(-1)));
      var flags = tf.placeholder(TBool.class, Placeholder.shape(Shape.of(-1)));
      var scale = tf.placeholder(TFloat64.class, Placeholder.shape(Shape.of(-1)));
      sig.input("ids", ids).input("counts", counts).input("words", words)
          .input("flags", flags).input("scale", scale)
          .output("ids_plus_one", tf.math.add(ids, tf.constant(1L)))
          .output("counts_doubled", tf.math.mul(counts, tf.constant(2)))
          .output("word_lengths", tf.strings.stringLength(words))
          .output("echo_bytes", tf.identity(words))
          .output("flags_not", tf.math.logicalNot(flags))
          .output("scale_twice", tf.math.mul(scale, tf.constant(2.0)));
    });
  }

  /**
   * Exports "wide" as version 1: x (float [-1,2]) through a hidden layer of {@code width} units,
   * y = sum(relu(x W), axis 1) ([-1]), so each row of two floats makes {@code width} floats of
   * activations. W is made by the graph (0.5 everywhere), not stored.
   */
  public static Path exportWide(Path basePath, int width) {
    return export(basePath.resolve("1"), (tf, sig) -> {
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 2)));
      var weights = tf.fill(tf.constant(new int[] {2, width}), tf.constant(0.5f));
      sig.input("x", x).output("y", tf.reduceSum(tf.nn.relu(tf.linalg.matMul(x, weights)), tf.constant(1)));
    });
  }

  /**
   * Exports multi_io (as {@link #exportMultiIo}) with two more signatures that TF Serving loads
   * but cannot run: "missing_tensor" names a tensor the graph lacks, and "wrong_dtype" declares
   * its input int32 where the graph has float.
   */
  public static Path exportWithBrokenSignatures(Path basePath) {
    Path base = exportMultiIo(basePath);
    Path file = base.resolve("1/saved_model.pb");
    try {
      org.tensorflow.proto.SavedModel model = org.tensorflow.proto.SavedModel.parseFrom(Files.readAllBytes(file));
      org.tensorflow.proto.MetaGraphDef graph = model.getMetaGraphs(0);
      org.tensorflow.proto.SignatureDef good = graph.getSignatureDefOrThrow(Signature.DEFAULT_KEY);
      org.tensorflow.proto.TensorInfo a = good.getInputsOrThrow("a");
      org.tensorflow.proto.SignatureDef missing = good.toBuilder()
          .putOutputs("sum", good.getOutputsOrThrow("sum").toBuilder().setName("nope:0").build()).build();
      org.tensorflow.proto.SignatureDef wrongDtype = good.toBuilder()
          .putInputs("a", a.toBuilder().setDtype(org.tensorflow.proto.DataType.DT_INT32).build()).build();
      Files.write(file, model.toBuilder().setMetaGraphs(0, graph.toBuilder()
          .putSignatureDef("missing_tensor", missing).putSignatureDef("wrong_dtype", wrongDtype)).build().toByteArray());
      return base;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private interface GraphBuilder {
    void build(Ops tf, Signature.Builder signature);
  }

  private static Path export(Path versionDir, GraphBuilder builder) {
    try (Graph graph = new Graph(); Session session = new Session(graph)) {
      Ops tf = Ops.create(graph);
      Signature.Builder signature = Signature.builder().key(Signature.DEFAULT_KEY);
      builder.build(tf, signature);
      Files.createDirectories(versionDir.getParent());
      SavedModelBundle.exporter(versionDir.toString())
          .withSession(session)
          .withSignature(signature.build())
          .export();
      return versionDir.getParent();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
