package io.infergate.worker.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.infergate.common.ServableId;
import io.infergate.worker.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** What a load reports of the version it loaded, on TF Serving's real test models. */
class SavedModelLoaderTest {

  @Test
  void aLoadedVersionHoldsAtLeastItsFilesInMemory() throws Exception {
    Path version = TestModels.tfServing("saved_model_half_plus_two_cpu").resolve("00000123");
    long files;
    try (Stream<Path> walk = Files.walk(version)) {
      files = walk.filter(Files::isRegularFile).mapToLong(file -> file.toFile().length()).sum();
    }
    long residentBefore = ResidentMemory.bytes();
    try (LoadedModel loaded = new SavedModelLoader(SavedModelOptions.DEFAULT).load(new ServableId("hp", 123), version)) {
      assertThat(residentBefore).as("/proc tells the resident set").isPositive();
      assertThat(files).isPositive();
      assertThat(loaded.memoryBytes()).isGreaterThanOrEqualTo(files);
      // TensorFlow's runtime, the graph and warmup's buffers come on top of the files; far less than a GiB here.
      assertThat(loaded.memoryBytes()).isLessThan(1L << 30);
    }
  }
}
