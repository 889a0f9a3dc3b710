package io.infergate.common.bus;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;

/**
 * Event-bus codec for one protobuf message type. Protobuf messages are immutable, so a local
 * delivery hands over the same object with no copy; across a cluster the message travels as
 * its compact wire bytes, length-prefixed.
 */
public final class ProtoMessageCodec<T extends Message> implements MessageCodec<T, T> {

  private final Class<T> type;
  private final Parser<T> parser;

  public ProtoMessageCodec(Class<T> type, Parser<T> parser) {
    this.type = type;
    this.parser = parser;
  }

  public Class<T> type() {
    return type;
  }

  @Override
  public void encodeToWire(Buffer buffer, T message) {
    byte[] bytes = message.toByteArray();
    buffer.appendInt(bytes.length).appendBytes(bytes);
  }

  @Override
  public T decodeFromWire(int pos, Buffer buffer) {
    int length = buffer.getInt(pos);
    try {
      return parser.parseFrom(buffer.getBytes(pos + 4, pos + 4 + length));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("Corrupt " + type.getSimpleName() + " on the event bus", e);
    }
  }

  @Override
  public T transform(T message) {
    return message;
  }

  @Override
  public String name() {
    return "proto:" + type.getName();
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
