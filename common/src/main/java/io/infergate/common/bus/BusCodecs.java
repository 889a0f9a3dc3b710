package io.infergate.common.bus;

import io.infergate.proto.serving.ClassificationRequest;
import io.infergate.proto.serving.ClassificationResponse;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.proto.serving.PredictResponse;
import io.infergate.proto.serving.RegressionRequest;
import io.infergate.proto.serving.RegressionResponse;
import io.infergate.proto.serving.ReloadConfigRequest;
import io.infergate.proto.serving.ReloadConfigResponse;
import io.vertx.core.eventbus.EventBus;
import java.util.List;

/** Registers the codec of every message that crosses the event bus. */
public final class BusCodecs {

  private static final List<ProtoMessageCodec<?>> CODECS = List.of(
      new ProtoMessageCodec<>(PredictRequest.class, PredictRequest.parser()),
      new ProtoMessageCodec<>(PredictResponse.class, PredictResponse.parser()),
      new ProtoMessageCodec<>(ClassificationRequest.class, ClassificationRequest.parser()),
      new ProtoMessageCodec<>(ClassificationResponse.class, ClassificationResponse.parser()),
      new ProtoMessageCodec<>(RegressionRequest.class, RegressionRequest.parser()),
      new ProtoMessageCodec<>(RegressionResponse.class, RegressionResponse.parser()),
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
