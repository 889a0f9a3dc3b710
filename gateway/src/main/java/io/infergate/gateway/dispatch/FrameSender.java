package io.infergate.gateway.dispatch;

import io.infergate.common.Priority;
import io.infergate.common.bus.Frames;
import io.infergate.proto.frames.FramedReply;
import io.infergate.proto.frames.ReplyFrame;
import io.infergate.proto.frames.RequestFrame;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Sends requests to workers in other processes, coalescing those that one event loop sends to
 * one servable's address within one turn into one event-bus message: the clustered bus costs a
 * header, a reply registration with its timer, a write and a dispatch on each side per message,
 * and under load one turn reads many requests. A frame goes out at the end of the turn (or at
 * once when it is full), so a lone request waits for nothing. A frame is answered when its last
 * request is, so it carries one priority only: a high-priority request never waits for the
 * answer of a low-priority one queued behind it at the worker.
 *
 * <p>An instance belongs to one event loop: it is used only from that loop's thread.
 */
final class FrameSender {

  /** Where a framed request's outcome goes: exactly one of the two is called, once. */
  interface Outcome {
    void answered(FramedReply reply);

    /** The frame failed as a whole (no handler, timed out, refused): the event-bus failure. */
    void failed(Throwable busFailure);
  }

  /** Beyond this many requests a frame goes out at once: it bounds a message's size and a reply's wait. */
  static final int MAX_REQUESTS_PER_FRAME = 64;

  private final Vertx vertx;
  private final Context context;
  /** By priority (its ordinal), then address. */
  private final List<Map<String, OpenFrame>> open = new ArrayList<>();

  FrameSender(Vertx vertx, Context context) {
    this.vertx = vertx;
    this.context = context;
    for (int i = 0; i < Priority.values().length; i++) {
      open.add(new HashMap<>());
    }
  }

  /** Queues a request for {@code address}; it leaves at the end of this turn. */
  void send(String address, Object request, long deadlineNanos, Priority priority, Outcome outcome) {
    Map<String, OpenFrame> frames = open.get(priority.ordinal());
    OpenFrame frame = frames.get(address);
    if (frame == null) {
      frame = new OpenFrame(address, frames);
      frames.put(address, frame);
      OpenFrame scheduled = frame;
      context.runOnContext(v -> flush(scheduled));
    }
    frame.queued.add(new Queued(request, deadlineNanos, priority, outcome));
    if (frame.queued.size() >= MAX_REQUESTS_PER_FRAME) {
      flush(frame);
    }
  }

  private void flush(OpenFrame frame) {
    if (frame.openIn.get(frame.address) != frame) {
      return; // already sent when it filled up
    }
    frame.openIn.remove(frame.address);
    long now = System.nanoTime();
    RequestFrame.Builder message = RequestFrame.newBuilder();
    long longestMillis = 1;
    for (Queued queued : frame.queued) {
      long millis = Math.max(1, (queued.deadlineNanos() - now) / 1_000_000);
      longestMillis = Math.max(longestMillis, millis);
      message.addRequests(Frames.request(queued.request(), millis, queued.priority()));
    }
    // Past the longest deadline, never before it: a bus timeout that came first would look like a
    // worker that dropped the frame (routed afresh), not like the deadline it is.
    longestMillis += 2;
    List<Queued> queued = frame.queued;
    // The frame waits as long as its longest deadline; each request's own deadline is watched by the caller.
    vertx.eventBus().<ReplyFrame>request(frame.address, message.build(), new DeliveryOptions().setSendTimeout(longestMillis))
        .onComplete(reply -> {
          if (reply.failed()) {
            queued.forEach(each -> each.outcome().failed(reply.cause()));
            return;
          }
          ReplyFrame answers = reply.result().body();
          if (answers.getRepliesCount() != queued.size()) {
            IllegalStateException wrong = new IllegalStateException("A worker answered " + answers.getRepliesCount()
                + " of a frame's " + queued.size() + " requests");
            queued.forEach(each -> each.outcome().failed(wrong));
            return;
          }
          for (int i = 0; i < queued.size(); i++) {
            queued.get(i).outcome().answered(answers.getReplies(i));
          }
        });
  }

  private record Queued(Object request, long deadlineNanos, Priority priority, Outcome outcome) {}

  private static final class OpenFrame {
    final String address;
    /** The frames of its priority, where it stays until it is sent. */
    final Map<String, OpenFrame> openIn;
    final List<Queued> queued = new ArrayList<>();

    OpenFrame(String address, Map<String, OpenFrame> openIn) {
      this.address = address;
      this.openIn = openIn;
    }
  }
}
