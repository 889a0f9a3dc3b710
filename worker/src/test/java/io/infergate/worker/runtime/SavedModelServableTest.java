package io.infergate.worker.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.infergate.common.ServableId;
import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.infergate.proto.serving.ClassificationRequest;
import io.infergate.proto.serving.ExampleList;
import io.infergate.proto.serving.ExampleListWithContext;
import io.infergate.proto.serving.Input;
import io.infergate.proto.serving.ModelSpec;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.proto.serving.PredictResponse;
import io.infergate.proto.serving.RegressionRequest;
import io.infergate.worker.TestModels;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.Example;
import org.tensorflow.proto.Feature;
import org.tensorflow.proto.Features;
import org.tensorflow.proto.FloatList;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

class SavedModelServableTest {

  @TempDir
  static Path exported;

  static SavedModelServable tf1;
  static SavedModelServable typed;
  static SavedModelServable multiIo;

  @BeforeAll
  static void load() {
    tf1 = SavedModelServable.load(new ServableId("half_plus_two", 123),
        TestModels.tfServing("saved_model_half_plus_two_cpu").resolve("00000123"), SessionOptions.DEFAULT);
    typed = SavedModelServable.load(new ServableId("typed", 1),
        TestModels.exportTyped(exported.resolve("typed")).resolve("1"), SessionOptions.DEFAULT);
    multiIo = SavedModelServable.load(new ServableId("multi_io", 1),
        TestModels.exportMultiIo(exported.resolve("multi_io")).resolve("1"), SessionOptions.DEFAULT);
  }

  @AfterAll
  static void unload() {
    tf1.close();
    typed.close();
    multiIo.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"saved_model_half_plus_two_cpu", "saved_model_half_plus_two_tf2_cpu"})
  void predictsHalfPlusTwoFromTf1AndTf2Exports(String model) {
    try (SavedModelServable servable = SavedModelServable.load(new ServableId("hp2", 123),
        TestModels.tfServing(model).resolve("00000123"), SessionOptions.DEFAULT)) {
      // The signature declares x as [-1,1] (TF1) or [1] (TF2); TF Serving feeds [3] regardless.
      PredictResponse response = servable.predict(predict("x", floats(3, 1.0f, 2.0f, 5.0f)));
      assertThat(floatValues(response.getOutputsOrThrow("y"))).containsExactly(2.5f, 3.0f, 4.5f);
      assertThat(response.getModelSpec().getVersion().getValue()).isEqualTo(123);
      assertThat(response.getModelSpec().getSignatureName()).isEqualTo("serving_default");
    }
  }

  /**
   * The runtime guards itself, whoever sends the request: each of these tensors would abort the
   * process inside TensorFlow (rank above 254) or exhaust its memory if it reached TF.
   */
  @ParameterizedTest
  @ValueSource(ints = {33, 255, 300})
  void refusesATensorTensorFlowWouldAbortOnAndStaysUp(int rank) {
    long[] dims = new long[rank];
    Arrays.fill(dims, 1);
    TensorProto tooDeep = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).setTensorShape(shape(dims))
        .addFloatVal(1f).build();
    assertThatThrownBy(() -> tf1.predict(predict("x", tooDeep))).isInstanceOfSatisfying(ServingException.class,
        e -> assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT));
    TensorProto empty = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).setTensorShape(shape(new long[rank]))
        .build();
    assertThatThrownBy(() -> tf1.predict(predict("x", empty))).isInstanceOf(ServingException.class);
    assertThat(floatValues(tf1.predict(predict("x", floats(1, 2.0f))).getOutputsOrThrow("y"))).containsExactly(3.0f);
  }

  @Test
  void acceptsTypedFieldsAsWellAsTensorContent() {
    TensorProto typedField = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
        .setTensorShape(shape(2)).addFloatVal(4.0f).addFloatVal(6.0f).build();
    assertThat(floatValues(tf1.predict(predict("x", typedField)).getOutputsOrThrow("y")))
        .containsExactly(4.0f, 5.0f);
  }

  @Test
  void regressesAndClassifiesTfExamples() {
    Input input = Input.newBuilder().setExampleList(ExampleList.newBuilder()
        .addExamples(example("x", 2.0f)).addExamples(example("x", 4.0f))).build();
    var regression = tf1.regress(RegressionRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("half_plus_two").setSignatureName("regress_x_to_y"))
        .setInput(input).build());
    assertThat(regression.getResult().getRegressionsList()).extracting(r -> r.getValue())
        .containsExactly(3.0f, 4.0f);

    var classification = tf1.classify(ClassificationRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("half_plus_two").setSignatureName("classify_x_to_y"))
        .setInput(input).build());
    assertThat(classification.getResult().getClassifications(0).getClasses(0).getScore()).isEqualTo(3.0f);
    assertThat(classification.getResult().getClassifications(0).getClasses(0).getLabel()).isEmpty();
  }

  @Test
  void mergesContextFeaturesIntoEveryExample() {
    Input input = Input.newBuilder().setExampleListWithContext(ExampleListWithContext.newBuilder()
        .setContext(example("x", 4.0f))
        .addExamples(Example.getDefaultInstance())
        .addExamples(example("x", 2.0f))).build();
    var regression = tf1.regress(RegressionRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setSignatureName("regress_x_to_y")).setInput(input).build());
    // The first example takes x from the context; the second's own x wins over the context's.
    assertThat(regression.getResult().getRegressionsList()).extracting(r -> r.getValue())
        .containsExactly(4.0f, 3.0f);
  }

  @Test
  void runsEveryServedDtype() {
    PredictRequest request = PredictRequest.newBuilder()
        .putInputs("ids", TensorProto.newBuilder().setDtype(DataType.DT_INT64).setTensorShape(shape(2))
            .addInt64Val(41).addInt64Val(-2).build())
        .putInputs("counts", TensorProto.newBuilder().setDtype(DataType.DT_INT32).setTensorShape(shape(2))
            .addIntVal(3).addIntVal(4).build())
        .putInputs("words", TensorProto.newBuilder().setDtype(DataType.DT_STRING).setTensorShape(shape(2))
            .addStringVal(ByteString.copyFromUtf8("héllo")).addStringVal(ByteString.copyFrom(new byte[] {0, 1, 2})).build())
        .putInputs("flags", TensorProto.newBuilder().setDtype(DataType.DT_BOOL).setTensorShape(shape(2))
            .addBoolVal(true).addBoolVal(false).build())
        .putInputs("scale", TensorProto.newBuilder().setDtype(DataType.DT_DOUBLE).setTensorShape(shape(2))
            .addDoubleVal(0.25).addDoubleVal(-1e300).build())
        .build();
    var outputs = typed.predict(request).getOutputsMap();
    ByteBuffer ids = le(outputs.get("ids_plus_one"));
    assertThat(new long[] {ids.getLong(), ids.getLong()}).containsExactly(42L, -1L);
    ByteBuffer counts = le(outputs.get("counts_doubled"));
    assertThat(new int[] {counts.getInt(), counts.getInt()}).containsExactly(6, 8);
    ByteBuffer lengths = le(outputs.get("word_lengths"));
    assertThat(new int[] {lengths.getInt(), lengths.getInt()}).containsExactly(6, 3);
    assertThat(outputs.get("echo_bytes").getStringVal(1).toByteArray()).containsExactly(0, 1, 2);
    assertThat(outputs.get("flags_not").getTensorContent().toByteArray()).containsExactly(0, 1);
    ByteBuffer scale = le(outputs.get("scale_twice"));
    assertThat(new double[] {scale.getDouble(), scale.getDouble()}).containsExactly(0.5, -2e300);
  }

  @Test
  void honoursTheOutputFilter() {
    PredictRequest request = PredictRequest.newBuilder()
        .putInputs("a", floats2(1, 2)).putInputs("b", floats2(3, 4)).addOutputFilter("dot").build();
    var outputs = multiIo.predict(request).getOutputsMap();
    assertThat(outputs.keySet()).containsExactly("dot");
    assertThat(floatValues(outputs.get("dot"))).containsExactly(11.0f);
  }

  @Test
  void rejectsBadRequestsWithTheRightStatus() {
    assertStatus(() -> tf1.predict(predict("x", floats(1, 1.0f)).toBuilder()
        .setModelSpec(ModelSpec.newBuilder().setSignatureName("nope")).build()), StatusCode.FAILED_PRECONDITION, "nope");
    assertStatus(() -> tf1.predict(predict("z", floats(1, 1.0f))), StatusCode.INVALID_ARGUMENT, "Missing but required: [x]");
    assertStatus(() -> tf1.predict(predict("x", TensorProto.newBuilder().setDtype(DataType.DT_INT64)
        .setTensorShape(shape(1)).addInt64Val(1).build())), StatusCode.INVALID_ARGUMENT, "expects DT_FLOAT but got DT_INT64");
    assertStatus(() -> multiIo.predict(PredictRequest.newBuilder()
        .putInputs("a", floats(3, 1, 2, 3)).putInputs("b", floats2(3, 4)).build()), StatusCode.INVALID_ARGUMENT, "Incompatible shapes");
    assertStatus(() -> multiIo.predict(PredictRequest.newBuilder()
        .putInputs("a", floats2(1, 2)).putInputs("b", floats2(3, 4)).addOutputFilter("nope").build()),
        StatusCode.INVALID_ARGUMENT, "output tensor alias not found");
    assertStatus(() -> tf1.regress(RegressionRequest.newBuilder()
        .setInput(Input.newBuilder().setExampleList(ExampleList.newBuilder().addExamples(example("x", 1f)))).build()),
        StatusCode.INVALID_ARGUMENT, "Expected tensorflow/serving/regress");
    assertStatus(() -> tf1.regress(RegressionRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setSignatureName("regress_x_to_y")).build()),
        StatusCode.INVALID_ARGUMENT, "Input is empty");
  }

  @Test
  void aMissingModelFailsToLoadWithAClearError() {
    assertStatus(() -> SavedModelServable.load(new ServableId("none", 1), exported.resolve("absent"),
        SessionOptions.DEFAULT), StatusCode.FAILED_PRECONDITION, "Failed to load SavedModel");
  }

  static void assertStatus(Runnable call, StatusCode code, String message) {
    assertThatThrownBy(call::run).isInstanceOfSatisfying(ServingException.class, e -> {
      assertThat(e.code()).isEqualTo(code);
      assertThat(e.getMessage()).contains(message);
    });
  }

  static PredictRequest predict(String input, TensorProto tensor) {
    return PredictRequest.newBuilder().setModelSpec(ModelSpec.newBuilder().setName("m"))
        .putInputs(input, tensor).build();
  }

  static TensorShapeProto shape(long... dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    Arrays.stream(dims).forEach(d -> shape.addDimBuilder().setSize(d));
    return shape.build();
  }

  static TensorProto floats(int rows, float... values) {
    ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      bytes.putFloat(v);
    }
    long[] dims = values.length == rows ? new long[] {rows} : new long[] {rows, values.length / rows};
    return TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).setTensorShape(shape(dims))
        .setTensorContent(ByteString.copyFrom(bytes.array())).build();
  }

  static TensorProto floats2(float first, float second) {
    return TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).setTensorShape(shape(1, 2))
        .addFloatVal(first).addFloatVal(second).build();
  }

  static ByteBuffer le(TensorProto tensor) {
    return ByteBuffer.wrap(tensor.getTensorContent().toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
  }

  static float[] floatValues(TensorProto tensor) {
    var buffer = le(tensor).asFloatBuffer();
    float[] values = new float[buffer.remaining()];
    buffer.get(values);
    return values;
  }

  static Example example(String feature, float value) {
    return Example.newBuilder().setFeatures(Features.newBuilder().putFeature(feature,
        Feature.newBuilder().setFloatList(FloatList.newBuilder().addValue(value)).build())).build();
  }

  /**
   * TF Serving loads a SavedModel whose signatures disagree with its graph and fails only the
   * requests that use such a signature: the valid ones serve.
   */
  @Test
  void servesTheValidSignaturesOfAModelWithBrokenOnes() {
    Path directory = TestModels.exportWithBrokenSignatures(exported.resolve("broken")).resolve("1");
    try (SavedModelServable broken = SavedModelServable.load(new ServableId("broken", 1), directory,
        SessionOptions.DEFAULT)) {
      PredictRequest request = PredictRequest.newBuilder()
          .putInputs("a", floats2(1, 2)).putInputs("b", floats2(3, 4)).build();
      assertThat(floatValues(broken.predict(request).getOutputsOrThrow("dot"))).containsExactly(11.0f);
      assertThat(broken.invalidSignatures()).containsOnlyKeys("missing_tensor", "wrong_dtype");
      assertStatus(() -> broken.predict(request.toBuilder().setModelSpec(ModelSpec.newBuilder()
          .setSignatureName("missing_tensor")).build()), StatusCode.INVALID_ARGUMENT, "nope:0");
      // A client that follows the declared signature sends int32; TensorFlow refuses it, as under TF Serving.
      TensorProto ints = TensorProto.newBuilder().setDtype(DataType.DT_INT32)
          .setTensorShape(TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(1))
              .addDim(TensorShapeProto.Dim.newBuilder().setSize(2)))
          .addIntVal(1).addIntVal(2).build();
      assertStatus(() -> broken.predict(request.toBuilder().putInputs("a", ints).setModelSpec(ModelSpec.newBuilder()
          .setSignatureName("wrong_dtype")).build()), StatusCode.INVALID_ARGUMENT, "float");
    }
  }
}
