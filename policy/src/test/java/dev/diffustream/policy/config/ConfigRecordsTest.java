package dev.diffustream.policy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class ConfigRecordsTest {

    @Test
    void shouldReproduceReleaseSeedIndexTableWhenCouplingIsRelease() {
        // spec A.10 with GA = I = 2: micro-batch 0 always uses seed 1, micro-batch 1 seed 0
        MaskSeedCoupling release = MaskSeedCoupling.RELEASE;
        assertThat(release.seedIndex(0, 0, 2, 2)).isEqualTo(1);
        assertThat(release.seedIndex(0, 1, 2, 2)).isEqualTo(0);
        assertThat(release.seedIndex(1, 0, 2, 2)).isEqualTo(1);
        assertThat(release.seedIndex(1, 1, 2, 2)).isEqualTo(0);
        // the paper: a fresh seed per iteration
        assertThat(MaskSeedCoupling.FRESH_PER_ITERATION.seedIndex(1, 0, 2, 2)).isEqualTo(1);
        assertThatThrownBy(() -> release.seedIndex(2, 0, 2, 2)).hasMessageContaining("got 2");
    }

    @Test
    void shouldCarryReleaseHyperparametersAsDefaults() {
        GrpoConfig g = GrpoConfig.defaults();
        assertThat(g.numGenerations()).isEqualTo(10);
        assertThat(g.numIterations()).isEqualTo(2);
        assertThat(g.epsilonLow()).isEqualTo(0.5);
        assertThat(g.beta()).isEqualTo(0.01);
        assertThat(g.maxGradNorm()).isEqualTo(0.2);
        assertThat(g.refModelSyncSteps()).isEqualTo(64);
        assertThat(g.refModelMixupAlpha()).isEqualTo(0.6);
        SamplerConfig s = SamplerConfig.defaults();
        assertThat(s.alg()).isEqualTo(RemaskingAlgorithm.ENTROPY);
        assertThat(s.topP()).isEqualTo(0.95);
        assertThat(s.steps()).isEqualTo(s.maxNewTokens()).isEqualTo(256);
        assertThat(PretrainConfig.defaults().evalSampler().maxNewTokens())
                .isEqualTo(PretrainConfig.defaults().completionLength());
    }

    @Test
    void shouldRejectBadValuesNamingKeyAndValue() {
        assertThatThrownBy(
                        () ->
                                new SamplerConfig(
                                        RemaskingAlgorithm.ENTROPY, 1.0, 1.5, 0, 0, 8, 8, 1e-3))
                .hasMessageContaining("sampler.topP")
                .hasMessageContaining("1.5");
        assertThatThrownBy(() -> PretrainConfig.defaults().withSteps(0))
                .hasMessageContaining("pretrain.steps must be >= 1, got 0");
        PretrainConfig p = PretrainConfig.defaults();
        assertThatThrownBy(() -> p.withEval(4, 4, SamplerConfig.defaults()))
                .hasMessageContaining(
                        "maxNewTokens (256) must equal pretrain.completionLength (64)");
        assertThatThrownBy(() -> RemaskingAlgorithm.fromWireName("greedy"))
                .hasMessageContaining("greedy")
                .hasMessageContaining("maskgit_plus");
    }

    @Test
    void shouldUseDreamSpellingInJson() throws Exception {
        ObjectMapper json = new ObjectMapper();
        String text = json.writeValueAsString(SamplerConfig.defaults());
        assertThat(text).contains("\"alg\":\"entropy\"");
        SamplerConfig back = json.readValue(text, SamplerConfig.class);
        assertThat(back).isEqualTo(SamplerConfig.defaults());
        assertThat(json.writeValueAsString(GrpoConfig.defaults()))
                .contains(
                        "\"estimator\":\"coupled\"",
                        "\"lrSchedule\":\"cosine_with_min_lr\"",
                        "\"maskSeedCoupling\":\"release\"");
        assertThat(RemaskingAlgorithm.fromWireName("TOPK_MARGIN"))
                .isEqualTo(RemaskingAlgorithm.TOPK_MARGIN);
    }
}
