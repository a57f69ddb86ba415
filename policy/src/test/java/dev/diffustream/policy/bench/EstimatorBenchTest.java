package dev.diffustream.policy.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.diffustream.policy.config.RemaskingAlgorithm;
import dev.diffustream.policy.config.SamplerConfig;
import dev.diffustream.policy.model.ModelConfig;
import dev.diffustream.policy.pretrain.FixtureSuite;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Runs the estimator bench for real on a very small fresh model. */
class EstimatorBenchTest {

    @Test
    void shouldPrintParsableJsonLinesWithTimingsAndVarianceRatios() throws Exception {
        // given a 1-layer model, G = 3, K = 16 in 8 steps, 1 prompt × 4 mask seeds
        ModelConfig d = ModelConfig.defaults();
        ModelConfig tiny =
                new ModelConfig(
                        d.modelType(),
                        d.vocabSize(),
                        32,
                        64,
                        1,
                        2,
                        1,
                        d.ropeTheta(),
                        d.rmsNormEps(),
                        false,
                        true,
                        d.maxPositionEmbeddings(),
                        "float32",
                        d.initializerRange(),
                        d.maskTokenId(),
                        d.padTokenId(),
                        d.bosTokenId(),
                        d.eosTokenId(),
                        3L,
                        d.device());
        SamplerConfig sampler =
                new SamplerConfig(RemaskingAlgorithm.ENTROPY, 1.0, 0.95, 0, 0.0, 8, 16, 1e-3);
        EstimatorBench.Options options =
                new EstimatorBench.Options(
                        null, tiny, new FixtureSuite(), sampler, 3, 1, 4, 1, 11L);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        // when
        EstimatorBench.Result r =
                new EstimatorBench()
                        .run(options, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        // then every line is a JSON object of this bench, in the documented order
        ObjectMapper json = new ObjectMapper();
        List<String> names = new ArrayList<>();
        for (String line : bytes.toString(StandardCharsets.UTF_8).split("\n")) {
            JsonNode node = json.readTree(line);
            assertThat(node.get("bench").asText()).isEqualTo("estimator");
            names.add(node.get("name").asText());
        }
        assertThat(names)
                .containsExactly(
                        "setup",
                        "sampling",
                        "coupled_estimate",
                        "grpo_update",
                        "estimator_variance",
                        "estimator_variance",
                        "estimator_variance",
                        "variance_ratio");
        assertThat(r.sampling().tokensPerSecond()).isPositive();
        assertThat(r.coupledEstimateSeconds()).isPositive();
        assertThat(r.grpoUpdateSeconds()).isGreaterThan(r.grpoStepSeconds());
        assertThat(r.variances())
                .extracting(EstimatorBench.Variance::forwardPasses)
                .containsOnly(3);
        assertThat(r.variances()).allSatisfy(v -> assertThat(v.meanVariance()).isPositive());
        assertThat(r.ratioToCoupled("coupled")).isEqualTo(1.0);
        assertThat(r.ratioToCoupled("decoupled")).isPositive().isFinite();
    }
}
