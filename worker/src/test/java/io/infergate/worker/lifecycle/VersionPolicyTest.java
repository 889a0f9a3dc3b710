package io.infergate.worker.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.TextFormat;
import io.infergate.proto.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class VersionPolicyTest {

  @ParameterizedTest(name = "{0} over {1} aspires to {2}")
  @CsvSource(delimiter = '|', value = {
      "''                                     | 1 2 3 | 3",
      "latest { }                             | 1 2 3 | 3",
      "latest { num_versions: 2 }             | 1 2 3 | 2 3",
      "latest { num_versions: 5 }             | 1 2 3 | 1 2 3",
      "all { }                                | 1 2 3 | 1 2 3",
      "specific { versions: 1 versions: 3 }   | 1 2 3 | 1 3",
      "specific { versions: 4 }               | 1 2 3 | ''",
      "latest { }                             | ''    | ''",
  })
  void choosesVersionsAsTensorFlowServingDoes(String policy, String onDisk, String expected) throws Exception {
    ServableVersionPolicy parsed = TextFormat.parse(policy, ServableVersionPolicy.class);
    assertThat(VersionPolicy.aspired(parsed, longs(onDisk))).containsExactlyElementsOf(longs(expected));
  }

  @Test
  void findsNumberedVersionFoldersOnly(@TempDir Path base) throws Exception {
    Files.createDirectories(base.resolve("00000123"));
    Files.createDirectories(base.resolve("7"));
    Files.createDirectories(base.resolve("tmp-8"));
    Files.createFile(base.resolve("9"));
    var versions = VersionDirectories.list(base);
    assertThat(versions.keySet()).containsExactly(7L, 123L);
    assertThat(versions.get(123L)).isEqualTo(base.resolve("00000123"));
  }

  private static Set<Long> longs(String text) {
    return Arrays.stream(text.trim().split("\\s+")).filter(s -> !s.isEmpty()).map(Long::parseLong)
        .collect(Collectors.toCollection(java.util.TreeSet::new));
  }
}
