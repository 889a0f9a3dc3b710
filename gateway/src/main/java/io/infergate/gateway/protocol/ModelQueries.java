package io.infergate.gateway.protocol;

import com.google.protobuf.Int64Value;
import io.infergate.common.registry.ModelView;
import io.infergate.common.registry.RoutingSnapshot;
import io.infergate.common.registry.ServableRecord;
import io.infergate.common.status.ServingException;
import io.infergate.gateway.routing.ServableResolver;
import io.infergate.gateway.routing.VersionSelector;
import io.infergate.proto.serving.GetModelStatusResponse;
import io.infergate.proto.serving.ModelSpec;
import io.infergate.proto.serving.ModelVersionStatus;
import io.infergate.proto.serving.StatusProto;
import java.util.Collection;
import java.util.List;
import org.tensorflow.proto.error.Code;

/** Model status and the served version's spec, answered from the routing snapshot for every protocol. */
public final class ModelQueries {

  /** The metadata entry that lists a version's signatures that do not match its model, and why. */
  public static final String INVALID_SIGNATURES = "invalid_signatures";

  private ModelQueries() {}

  /** Every version of the model (latest selector), or the one a version or label names, in any state. */
  public static GetModelStatusResponse status(RoutingSnapshot snapshot, String model, VersionSelector selector) {
    ModelView view = ServableResolver.model(snapshot, model, selector);
    Collection<ServableRecord> records = selector instanceof VersionSelector.Latest
        ? view.versions().descendingMap().values()
        : List.of(selector.select(view).orElseThrow(() -> ServableResolver.notFound(model, selector)));
    if (records.isEmpty()) {
      throw ServingException.notFound("Could not find any versions of model " + model);
    }
    GetModelStatusResponse.Builder response = GetModelStatusResponse.newBuilder();
    for (ServableRecord record : records) {
      response.addModelVersionStatus(ModelVersionStatus.newBuilder()
          .setVersion(record.id().version())
          .setState(record.state())
          .setStatus(StatusProto.newBuilder()
              .setErrorCode(Code.forNumber(record.errorCode().number()))
              .setErrorMessage(record.errorMessage())));
    }
    return response.build();
  }

  /** The spec that names a servable in responses: its model and version. */
  public static ModelSpec spec(ServableRecord servable) {
    return ModelSpec.newBuilder().setName(servable.id().name())
        .setVersion(Int64Value.of(servable.id().version())).build();
  }
}
