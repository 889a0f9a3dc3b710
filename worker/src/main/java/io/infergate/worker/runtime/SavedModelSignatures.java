package io.infergate.worker.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;

/**
 * Finds the signatures of a SavedModel that disagree with its graph (a tensor that does not
 * exist, a declared dtype that is not the tensor's). TF Serving loads such a model and fails only
 * the requests that use them; TF Java refuses the whole model. So such a model is loaded from a
 * copy of its {@code saved_model.pb} without them (its other files linked, not copied), while the
 * servable keeps every signature: a request to a broken one reaches TensorFlow, which refuses it
 * as it does under TF Serving.
 */
final class SavedModelSignatures {

  private static final String SAVED_MODEL = "saved_model.pb";

  private SavedModelSignatures() {}

  /** Each broken signature of a meta graph, with what is wrong with it. */
  static Map<String, String> broken(MetaGraphDef metaGraph) {
    Map<String, String> broken = new TreeMap<>();
    try (Graph graph = new Graph()) {
      graph.importGraphDef(metaGraph.getGraphDef());
      metaGraph.getSignatureDefMap().forEach((name, signature) -> {
        String problem = problem(graph, signature);
        if (problem != null) {
          broken.put(name, problem);
        }
      });
    }
    return broken;
  }

  /** The meta graph of {@code directory}'s saved_model.pb that carries every tag, or null (unreadable, another format, no match). */
  static MetaGraphDef metaGraph(Path directory, List<String> tags) {
    Path file = directory.resolve(SAVED_MODEL);
    if (!Files.isRegularFile(file)) {
      return null;
    }
    try {
      SavedModel model = SavedModel.parseFrom(Files.readAllBytes(file));
      return model.getMetaGraphsList().stream()
          .filter(graph -> graph.getMetaInfoDef().getTagsList().containsAll(tags)).findFirst().orElse(null);
    } catch (IOException e) {
      return null; // the loader's own error says what is wrong with it
    }
  }

  /**
   * A folder that TF Java can load: {@code directory}'s files linked, and a saved_model.pb holding
   * only {@code metaGraph} without the broken signatures. The caller deletes it after the load.
   */
  static Path withoutBroken(Path directory, MetaGraphDef metaGraph, Map<String, String> broken) throws IOException {
    Path copy = Files.createTempDirectory("infergate-savedmodel-");
    try (Stream<Path> children = Files.list(directory)) {
      for (Path child : children.toList()) {
        if (!child.getFileName().toString().equals(SAVED_MODEL)) {
          Files.createSymbolicLink(copy.resolve(child.getFileName()), child.toAbsolutePath());
        }
      }
    }
    MetaGraphDef.Builder loadable = metaGraph.toBuilder();
    broken.keySet().forEach(loadable::removeSignatureDef);
    Files.write(copy.resolve(SAVED_MODEL), SavedModel.newBuilder().addMetaGraphs(loadable).build().toByteArray());
    return copy;
  }

  /** Removes a folder {@link #withoutBroken} made (links, not what they point at). */
  static void delete(Path copy) throws IOException {
    try (Stream<Path> children = Files.list(copy)) {
      for (Path child : children.toList()) {
        Files.delete(child);
      }
    }
    Files.delete(copy);
  }

  private static String problem(Graph graph, SignatureDef signature) {
    for (Map<String, TensorInfo> tensors : List.of(signature.getInputsMap(), signature.getOutputsMap())) {
      for (Map.Entry<String, TensorInfo> tensor : tensors.entrySet()) {
        String problem = problem(graph, tensor.getKey(), tensor.getValue());
        if (problem != null) {
          return problem;
        }
      }
    }
    return null;
  }

  private static String problem(Graph graph, String alias, TensorInfo info) {
    if (info.getEncodingCase() != TensorInfo.EncodingCase.NAME) {
      return null; // sparse and composite tensors: left to TensorFlow
    }
    String name = info.getName();
    int colon = name.lastIndexOf(':');
    String operation = colon < 0 ? name : name.substring(0, colon);
    int index;
    try {
      index = colon < 0 ? 0 : Integer.parseInt(name.substring(colon + 1));
    } catch (NumberFormatException e) {
      return "'" + alias + "' names " + name + ", which is not a tensor name";
    }
    GraphOperation found = graph.operation(operation);
    if (found == null || index < 0 || index >= found.numOutputs()) {
      return "'" + alias + "' names " + name + ", which is not in the graph";
    }
    if (found.output(index).dataType() != info.getDtype()) {
      return "'" + alias + "' is declared " + info.getDtype() + " but " + name + " is "
          + found.output(index).dataType() + " in the graph";
    }
    return null;
  }
}
