package io.infergate.gateway.routing;

import io.infergate.common.registry.ModelView;
import io.infergate.common.registry.ServableRecord;
import io.infergate.common.status.ServingException;
import java.util.Optional;

/** How a request picks a version of a model: the latest, a number, or a label. */
public sealed interface VersionSelector {

  /** The servable this selector picks from a model, in whatever state it is. */
  Optional<ServableRecord> select(ModelView model);

  /** TF Serving's wording of the request, for NOT_FOUND messages. */
  String describe(String model);

  VersionSelector LATEST = new Latest();

  record Latest() implements VersionSelector {
    @Override
    public Optional<ServableRecord> select(ModelView model) {
      return model.latestAvailable();
    }

    @Override
    public String describe(String model) {
      return "Latest(" + model + ")";
    }
  }

  record Specific(long version) implements VersionSelector {
    @Override
    public Optional<ServableRecord> select(ModelView model) {
      return Optional.ofNullable(model.versions().get(version));
    }

    @Override
    public String describe(String model) {
      return "Specific(" + model + ", " + version + ")";
    }
  }

  record Label(String label) implements VersionSelector {
    @Override
    public Optional<ServableRecord> select(ModelView model) {
      Long version = model.labels().get(label);
      if (version == null) {
        throw ServingException.notFound("Unrecognized servable version label: " + label);
      }
      return Optional.ofNullable(model.versions().get(version));
    }

    @Override
    public String describe(String model) {
      return "Label(" + model + ", " + label + ")";
    }
  }

  /** From a gRPC ModelSpec: its version, else its version label, else the latest. */
  static VersionSelector of(io.infergate.proto.serving.ModelSpec spec) {
    if (spec.hasVersion()) {
      return new Specific(spec.getVersion().getValue());
    }
    return spec.getVersionLabel().isEmpty() ? LATEST : new Label(spec.getVersionLabel());
  }

  /** From the optional {@code versions/{v}} or {@code labels/{l}} path segments. */
  static VersionSelector of(String version, String label) {
    if (version != null && !version.isEmpty()) {
      try {
        return new Specific(Long.parseLong(version));
      } catch (NumberFormatException e) {
        throw ServingException.invalidArgument("Version must be a number, not '" + version + "'");
      }
    }
    if (label != null && !label.isEmpty()) {
      return new Label(label);
    }
    return LATEST;
  }
}
