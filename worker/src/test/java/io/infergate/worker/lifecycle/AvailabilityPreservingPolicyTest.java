package io.infergate.worker.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import io.infergate.worker.lifecycle.AvailabilityPreservingPolicy.Actions;
import io.infergate.worker.lifecycle.AvailabilityPreservingPolicy.Held;
import io.infergate.worker.lifecycle.AvailabilityPreservingPolicy.Phase;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AvailabilityPreservingPolicyTest {

  /**
   * Aspired versions are {@code 2} (from folder a) or {@code 2@b} (from folder b); held ones are
   * {@code 1:AVAILABLE} or {@code 1@b:FAILED}. The actions list versions in ascending order.
   */
  @ParameterizedTest(name = "aspired [{0}], held [{1}]: load [{2}], unload [{3}], forget [{4}]")
  @CsvSource(delimiter = '|', value = {
      // first load
      "1       | ''                        | 1   | ''  | ''",
      // a new version: loaded first, the old one stays until it serves
      "2       | 1:AVAILABLE               | 2   | ''  | ''",
      "2       | 1:AVAILABLE 2:LOADING     | ''  | ''  | ''",
      "2       | 1:AVAILABLE 2:AVAILABLE   | ''  | 1   | ''",
      // the new version failed: the old one keeps serving; the failure stays until it leaves
      "2       | 1:AVAILABLE 2:FAILED      | ''  | ''  | ''",
      "3       | 1:AVAILABLE 2:FAILED      | 3   | ''  | 2",
      // nothing aspired (a version pinned unloaded, or the folder emptied): unload
      "''      | 1:AVAILABLE               | ''  | 1   | ''",
      // several unaspired serve and none aspired does: only the newest stays
      "3       | 1:AVAILABLE 2:AVAILABLE 3:LOADING | '' | 1 | ''",
      // an unloading version is left alone
      "2       | 1:UNLOADING 2:AVAILABLE   | ''  | ''  | ''",
      // base path changed: the same number from a new folder replaces the old one
      "1@b     | 1:AVAILABLE               | ''  | 1   | ''",
      "1@b     | ''                        | 1   | ''  | ''",
      "1@b 2@b | 1:AVAILABLE               | 2   | ''  | ''",
      "1@b 2@b | 1:AVAILABLE 2@b:AVAILABLE | ''  | 1   | ''",
      "1@b     | 1:FAILED                  | 1   | ''  | 1",
  })
  void decidesAsAnAvailabilityPreservingManager(String aspired, String held, String load, String unload,
                                               String forget) {
    Actions actions = AvailabilityPreservingPolicy.decide(aspired(aspired), held(held));
    assertThat(actions.load()).as("load").containsExactlyElementsOf(longs(load));
    assertThat(actions.unload()).as("unload").containsExactlyElementsOf(longs(unload));
    assertThat(actions.forget()).as("forget").containsExactlyElementsOf(longs(forget));
  }

  private static Map<Long, Path> aspired(String spec) {
    Map<Long, Path> aspired = new TreeMap<>();
    for (String item : words(spec)) {
      String[] parts = item.split("@");
      aspired.put(Long.parseLong(parts[0]), folder(parts.length > 1 ? parts[1] : "a", parts[0]));
    }
    return aspired;
  }

  private static Map<Long, Held> held(String spec) {
    Map<Long, Held> held = new TreeMap<>();
    for (String item : words(spec)) {
      String[] versionAndPhase = item.split(":");
      String[] parts = versionAndPhase[0].split("@");
      held.put(Long.parseLong(parts[0]), new Held(folder(parts.length > 1 ? parts[1] : "a", parts[0]),
          Phase.valueOf(versionAndPhase[1])));
    }
    return held;
  }

  private static Path folder(String base, String version) {
    return Path.of("/models", base, version);
  }

  private static List<Long> longs(String spec) {
    return words(spec).stream().map(Long::parseLong).toList();
  }

  private static List<String> words(String spec) {
    return spec == null || spec.isBlank() ? List.of() : Arrays.asList(spec.trim().split("\\s+"));
  }
}
