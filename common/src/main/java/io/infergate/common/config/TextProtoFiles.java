package io.infergate.common.config;

import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads TF Serving's ASCII (text-format protobuf) config files. */
public final class TextProtoFiles {

  private TextProtoFiles() {}

  @SuppressWarnings("unchecked")
  public static <T extends Message> T read(Path file, T prototype) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException("Cannot read " + file + ": " + e.getMessage(), e);
    }
    return parse(text, prototype, file.toString());
  }

  @SuppressWarnings("unchecked")
  public static <T extends Message> T parse(String text, T prototype, String source) {
    Message.Builder builder = prototype.newBuilderForType();
    try {
      TextFormat.getParser().merge(text, builder);
    } catch (TextFormat.ParseException e) {
      throw new ConfigException("Cannot parse " + source + " as "
          + prototype.getDescriptorForType().getFullName() + ": " + e.getMessage(), e);
    }
    return (T) builder.build();
  }
}
