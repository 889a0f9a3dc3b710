package io.infergate.worker.runtime;

import java.util.List;
import org.tensorflow.proto.ConfigProto;

/** How a SavedModel is loaded: the meta-graph tags and TensorFlow's session configuration. */
public record SessionOptions(List<String> tags, ConfigProto config) {

  public static final SessionOptions DEFAULT =
      new SessionOptions(List.of("serve"), ConfigProto.getDefaultInstance());

  public SessionOptions {
    tags = List.copyOf(tags);
  }
}
