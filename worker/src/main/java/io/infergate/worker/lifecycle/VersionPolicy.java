package io.infergate.worker.lifecycle;

import io.infergate.proto.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy;
import java.util.Collections;
import java.util.NavigableSet;
import java.util.Set;
import java.util.TreeSet;

/** Chooses the aspired versions of a model from those found on disk, as TF Serving does. */
public final class VersionPolicy {

  private VersionPolicy() {}

  public static NavigableSet<Long> aspired(ServableVersionPolicy policy, Set<Long> onDisk) {
    TreeSet<Long> chosen = new TreeSet<>();
    switch (policy.getPolicyChoiceCase()) {
      case ALL -> chosen.addAll(onDisk);
      case SPECIFIC -> policy.getSpecific().getVersionsList().stream()
          .filter(onDisk::contains).forEach(chosen::add);
      case LATEST, POLICYCHOICE_NOT_SET -> {
        int count = Math.max(1, policy.getLatest().getNumVersions());
        new TreeSet<>(onDisk).descendingSet().stream().limit(count).forEach(chosen::add);
      }
    }
    return Collections.unmodifiableNavigableSet(chosen);
  }
}
