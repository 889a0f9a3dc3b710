package io.infergate.worker.lifecycle;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Decides, from the aspired versions of a model and those a worker holds, what to load, unload
 * and forget, so that a model that serves keeps serving (TF Serving's availability-preserving
 * policy): a version that left the aspired set is unloaded only once an aspired version is
 * AVAILABLE, or when no version is aspired at all; while none is, only the newest of several
 * such versions stays. A held version whose folder is no longer the aspired one (the model's
 * base path changed) is replaced: unloaded once another aspired version serves, or at once when
 * nothing else could, then loaded from its new folder. Pure: no I/O, no clock, no state.
 */
public final class AvailabilityPreservingPolicy {

  private AvailabilityPreservingPolicy() {}

  /** Where a held version is in its life. */
  public enum Phase { LOADING, AVAILABLE, UNLOADING, FAILED }

  /** A version the worker holds, the folder it came from and its phase. */
  public record Held(Path directory, Phase phase) {}

  /**
   * What to do next; every list in ascending version order.
   *
   * @param forget failed versions no longer aspired from their folder: dropped, and retried if they come back
   */
  public record Actions(List<Long> load, List<Long> unload, List<Long> forget) {

    public boolean isEmpty() {
      return load.isEmpty() && unload.isEmpty() && forget.isEmpty();
    }
  }

  public static Actions decide(Map<Long, Path> aspired, Map<Long, Held> held) {
    List<Long> load = new ArrayList<>();
    List<Long> unload = new ArrayList<>();
    List<Long> forget = new ArrayList<>();
    List<Long> servingUnaspired = new ArrayList<>();
    List<Long> servingReplaced = new ArrayList<>();
    boolean aspiredServes = false;
    boolean aspiredComing = false;
    for (Map.Entry<Long, Held> entry : new TreeMap<>(held).entrySet()) {
      long version = entry.getKey();
      Phase phase = entry.getValue().phase();
      Path wanted = aspired.get(version);
      boolean replaced = wanted != null && !wanted.equals(entry.getValue().directory());
      if (wanted == null || replaced) {
        if (phase == Phase.FAILED) {
          forget.add(version);
        } else if (phase == Phase.AVAILABLE) {
          (replaced ? servingReplaced : servingUnaspired).add(version);
        }
      } else if (phase == Phase.AVAILABLE) {
        aspiredServes = true;
      } else if (phase == Phase.LOADING) {
        aspiredComing = true;
      }
    }
    for (long version : new TreeMap<>(aspired).keySet()) {
      if (!held.containsKey(version) || forget.contains(version)) {
        load.add(version);
        aspiredComing = true;
      }
    }
    if (aspiredServes || aspired.isEmpty()) {
      unload.addAll(servingUnaspired);
    } else if (servingUnaspired.size() > 1) {
      unload.addAll(servingUnaspired.subList(0, servingUnaspired.size() - 1));
    }
    // A replaced version holds the id its replacement needs: it waits only for another aspired version.
    if (aspiredServes || !aspiredComing) {
      unload.addAll(servingReplaced);
    }
    unload.sort(null);
    return new Actions(load, unload, forget);
  }
}
