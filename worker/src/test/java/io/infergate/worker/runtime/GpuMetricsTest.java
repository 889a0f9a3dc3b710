package io.infergate.worker.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class GpuMetricsTest {

  @Test
  void readsNvidiaSmiOutputAsRecordedOnAnH200() {
    // Recorded from `nvidia-smi --query-gpu=index,name,utilization.gpu,memory.used,memory.total
    // --format=csv,noheader,nounits` on the project's lent H200 machine, plus a busy second GPU.
    var readings = GpuMetrics.parse("0, NVIDIA H200, 0, 0, 143771\n1, NVIDIA H200, 37, 2048, 143771\n");
    assertThat(readings).hasSize(2);
    assertThat(readings.get(0).totalBytes()).isEqualTo(143771.0 * 1024 * 1024);
    assertThat(readings.get(1)).extracting(GpuMetrics.Reading::index, GpuMetrics.Reading::name,
        GpuMetrics.Reading::utilization, GpuMetrics.Reading::usedBytes)
        .containsExactly("1", "NVIDIA H200", 0.37, 2048.0 * 1024 * 1024);
  }

  @Test
  void aValueTheDriverCannotReadIsNotANumber() {
    assertThat(GpuMetrics.parse("0, Tesla T4, [N/A], 10, 15360").get(0).utilization()).isNaN();
  }
}
