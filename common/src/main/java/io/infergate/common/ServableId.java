package io.infergate.common;

import java.util.Objects;

/** One servable: a version of a model, in TF Serving's vocabulary. */
public record ServableId(String name, long version) implements Comparable<ServableId> {

  public ServableId {
    Objects.requireNonNull(name, "name");
  }

  @Override
  public int compareTo(ServableId other) {
    int byName = name.compareTo(other.name);
    return byName != 0 ? byName : Long.compare(version, other.version);
  }

  @Override
  public String toString() {
    return name + ":" + version;
  }
}
