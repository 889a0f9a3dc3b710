package io.infergate.common.registry;

import io.infergate.proto.registry.TrafficPolicy;
import java.util.Collections;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;

/** An immutable view of one model: its servables by version, its labels and its traffic policy. */
public record ModelView(String name, NavigableMap<Long, ServableRecord> versions,
                        Map<String, Long> labels, TrafficPolicy traffic) {

  public ModelView {
    versions = Collections.unmodifiableNavigableMap(new TreeMap<>(versions));
    labels = Map.copyOf(labels);
  }

  /** The highest version that is AVAILABLE, as TF Serving picks when no version is named. */
  public Optional<ServableRecord> latestAvailable() {
    // A loop, not a stream: this runs for every request that names no version.
    for (ServableRecord record : versions.descendingMap().values()) {
      if (record.isAvailable()) {
        return Optional.of(record);
      }
    }
    return Optional.empty();
  }

  /** The versions that some worker serves, lowest first. */
  public java.util.List<Long> availableVersions() {
    return versions.values().stream().filter(ServableRecord::isAvailable).map(r -> r.id().version()).toList();
  }

  public boolean isReady() {
    return latestAvailable().isPresent() || versions.values().stream().anyMatch(ServableRecord::isPageable);
  }

  /** Every version it has failed to load for good: nothing of it will serve until its folder or config changes. */
  public boolean hasFailed() {
    return !versions.isEmpty() && versions.values().stream().allMatch(ServableRecord::hasFailed);
  }
}
