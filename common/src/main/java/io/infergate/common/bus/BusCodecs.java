package io.infergate.common.bus;

import io.infergate.proto.frames.ReplyFrame;
import io.infergate.proto.frames.RequestFrame;
import io.infergate.proto.serving.ReloadConfigRequest;
import io.infergate.proto.serving.ReloadConfigResponse;
import io.vertx.core.eventbus.EventBus;
import java.util.List;

/** Registers the codec of every message that crosses the event bus. */
public final class BusCodecs {

  private static final List<ProtoMessageCodec<?>> CODECS = List.of(
      new ProtoMessageCodec<>(RequestFrame.class, RequestFrame.parser()),
      new ProtoMessageCodec<>(ReplyFrame.class, ReplyFrame.parser()),
      new ProtoMessageCodec<>(ReloadConfigRequest.class, ReloadConfigRequest.parser()),
      new ProtoMessageCodec<>(ReloadConfigResponse.class, ReloadConfigResponse.parser()));

  private BusCodecs() {}

  /** Registers each codec as the default for its type; safe to call once per Vertx instance. */
  public static void register(EventBus eventBus) {
    for (ProtoMessageCodec<?> codec : CODECS) {
      registerOne(eventBus, codec);
    }
  }

  private static <T extends com.google.protobuf.Message> void registerOne(
      EventBus eventBus, ProtoMessageCodec<T> codec) {
    eventBus.registerDefaultCodec(codec.type(), codec);
  }
}
