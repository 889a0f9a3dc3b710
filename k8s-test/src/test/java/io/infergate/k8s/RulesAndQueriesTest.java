package io.infergate.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The PromQL that reaches a cluster, checked by Prometheus's own parser: the PrometheusRule's
 * rules (which must be exactly k8s/monitoring/alerts.yml's, tested there with promtool's unit
 * tests) and every KEDA scaler's query.
 */
class RulesAndQueriesTest {

  @TempDir
  Path dir;

  @ParameterizedTest
  @MethodSource("io.infergate.k8s.Manifests#kustomizations")
  void rulesAndScalerQueriesPassPromtool(String kustomization) throws Exception {
    Manifests manifests = Manifests.of(kustomization);
    ObjectNode rules = StrictModel.MAPPER.createObjectNode();
    ArrayNode groups = rules.putArray("groups");
    for (JsonNode document : StrictModel.MAPPER.readerFor(JsonNode.class).<JsonNode>readValues(manifests.yaml)
        .readAll()) {
      if (document.path("kind").asString("").equals("PrometheusRule")) {
        JsonNode alerts = StrictModel.MAPPER.readTree(Manifests.ROOT.resolve("k8s/monitoring/alerts.yml").toFile());
        assertThat(document.path("spec").path("groups")).as("the PrometheusRule carries alerts.yml unchanged")
            .isEqualTo(alerts.path("groups"));
        document.path("spec").path("groups").forEach(groups::add);
      }
    }
    ObjectNode scalers = groups.addObject().put("name", "keda-scaler-queries");
    ArrayNode queries = scalers.putArray("rules");
    for (ScaledObject scaler : manifests.all(ScaledObject.class)) {
      scaler.spec().triggers().forEach(trigger -> queries.addObject()
          .put("record", "keda:" + scaler.metadata().getName().replace('-', '_'))
          .put("expr", trigger.metadata().get("query")));
    }
    assertThat(groups.size()).as("something to check").isPositive();
    Path file = dir.resolve("rules.yml");
    StrictModel.MAPPER.writeValue(file.toFile(), rules);
    Process promtool = new ProcessBuilder("promtool", "check", "rules", file.toString()).redirectErrorStream(true)
        .start();
    String output = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(promtool.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(promtool.exitValue()).as(output).isZero();
    assertThat(output).contains("SUCCESS");
  }
}
