package io.infergate.common.bus;

import io.infergate.common.Priority;
import io.infergate.common.status.ServingException;
import io.infergate.common.status.StatusCode;
import io.infergate.proto.frames.Failure;
import io.infergate.proto.frames.FramedReply;
import io.infergate.proto.frames.FramedRequest;
import io.infergate.proto.serving.ClassificationRequest;
import io.infergate.proto.serving.ClassificationResponse;
import io.infergate.proto.serving.PredictRequest;
import io.infergate.proto.serving.PredictResponse;
import io.infergate.proto.serving.RegressionRequest;
import io.infergate.proto.serving.RegressionResponse;

/**
 * Puts requests and answers into the frames that cross the clustered event bus, and takes them
 * out again (see {@code frames.proto}).
 */
public final class Frames {

  private Frames() {}

  public static FramedRequest request(Object request, long timeoutMillis, Priority priority) {
    FramedRequest.Builder framed = FramedRequest.newBuilder().setTimeoutMillis(timeoutMillis)
        .setPriority(priority.level());
    if (request instanceof PredictRequest predict) {
      framed.setPredict(predict);
    } else if (request instanceof ClassificationRequest classify) {
      framed.setClassify(classify);
    } else if (request instanceof RegressionRequest regress) {
      framed.setRegress(regress);
    } else {
      throw new IllegalArgumentException("No frame carries a " + request.getClass().getName());
    }
    return framed.build();
  }

  /** The request a frame's entry carries. */
  public static Object request(FramedRequest framed) {
    return switch (framed.getRequestCase()) {
      case PREDICT -> framed.getPredict();
      case CLASSIFY -> framed.getClassify();
      case REGRESS -> framed.getRegress();
      case REQUEST_NOT_SET -> throw ServingException.invalidArgument("A framed request carries no request");
    };
  }

  /** An answer as a frame's entry: exactly one of {@code response} and {@code failure} is non-null. */
  public static FramedReply reply(Object response, Throwable failure) {
    FramedReply.Builder reply = FramedReply.newBuilder();
    if (failure != null) {
      ServingException status = ServingException.of(failure);
      return reply.setFailure(Failure.newBuilder().setCode(status.code().number())
          .setMessage(status.getMessage() == null ? "" : status.getMessage())).build();
    }
    if (response instanceof PredictResponse predict) {
      reply.setPredict(predict);
    } else if (response instanceof ClassificationResponse classify) {
      reply.setClassify(classify);
    } else if (response instanceof RegressionResponse regress) {
      reply.setRegress(regress);
    } else {
      return reply(null, new IllegalStateException("No frame carries a " + response.getClass().getName()));
    }
    return reply.build();
  }

  /**
   * The answer a frame's entry carries.
   *
   * @throws ServingException the failure it carries instead
   */
  public static Object response(FramedReply reply) {
    return switch (reply.getReplyCase()) {
      case PREDICT -> reply.getPredict();
      case CLASSIFY -> reply.getClassify();
      case REGRESS -> reply.getRegress();
      case FAILURE -> throw new ServingException(StatusCode.ofNumber(reply.getFailure().getCode()),
          reply.getFailure().getMessage());
      case REPLY_NOT_SET -> throw new ServingException(StatusCode.INTERNAL, "A worker's answer carries nothing");
    };
  }
}
