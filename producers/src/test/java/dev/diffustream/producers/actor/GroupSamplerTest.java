package dev.diffustream.producers.actor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import dev.diffustream.infra.config.ConfigLoader;
import dev.diffustream.policy.DeviceConfig;
import dev.diffustream.policy.DeviceRuntime;
import dev.diffustream.policy.LoadedPolicy;
import dev.diffustream.policy.config.GrpoConfig;
import dev.diffustream.policy.config.SamplerConfig;
import dev.diffustream.policy.estimator.LogProbEstimators;
import dev.diffustream.policy.estimator.ScoringBatch;
import dev.diffustream.policy.model.ModelConfig;
import dev.diffustream.policy.model.PolicyModel;
import dev.diffustream.policy.pretrain.PretrainData;
import dev.diffustream.policy.tokenizer.CharTokenizer;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The actor's group sampling on a real tiny policy (PyTorch through DJL, no Kafka): G completions
 * of K tokens, behaviour log-probs [G][I][K] for mask seeds derived from the task seed, and the
 * same group again for the same task seed.
 */
class GroupSamplerTest {

    private static final int G = 3;
    private static final int I = 2;
    private static final int K = 8;
    private static final String SYSTEM = "Be brief.";
    private static final String USER = "Write a function f that returns 1.";
    private static final SamplerConfig SAMPLER = SamplerConfig.defaults().withLength(K, K);

    private static LoadedPolicy policy;

    @BeforeAll
    static void loadPolicy() {
        DeviceConfig device = DeviceConfig.defaults();
        DeviceRuntime.initialize(device);
        ModelConfig cfg =
                ModelConfig.defaults().toBuilder()
                        .hiddenSize(16)
                        .intermediateSize(32)
                        .numHiddenLayers(1)
                        .numAttentionHeads(2)
                        .numKeyValueHeads(1)
                        .initializerRange(0.2)
                        .initSeed(5)
                        .device(device)
                        .build();
        policy =
                new LoadedPolicy(PolicyModel.create(cfg), CharTokenizer.standard(), 0, "sha", null);
    }

    @AfterAll
    static void closePolicy() {
        policy.close();
    }

    private static GrpoConfig grpo(boolean randomMasking) {
        return ConfigLoader.of(GrpoConfig.class)
                .load(
                        "numGenerations: "
                                + G
                                + "\nnumIterations: "
                                + I
                                + "\nrandomMasking: "
                                + randomMasking
                                + "\nmaxPromptLength: 40\nmaxCompletionLength: "
                                + K
                                + "\n",
                        "test",
                        Map.of())
                .value();
    }

    @Test
    void shouldSampleGCompletionsWithBehaviourLogProbsPerIterationWhenGroupSampled() {
        // given a sampler for G = 3, I = 2, K = 8
        GroupSampler sampler = new GroupSampler(grpo(true), SAMPLER, SYSTEM);

        // when one task is sampled
        GroupSampler.SampledGroup g = sampler.sample(policy, USER, 1234L);

        // then the group has G completions of K tokens and their decoded texts
        assertThat(g.samples().rows()).isEqualTo(G);
        assertThat(g.samples().completionLength()).isEqualTo(K);
        assertThat(g.texts()).hasSize(G);
        for (int m = 0; m < G; m++) {
            assertThat(g.texts()[m])
                    .isEqualTo(policy.tokenizer().decode(g.samples().completions()[m], true));
        }
        // and the prompt is the chat-templated, left-truncated prompt
        assertThat(g.prompt())
                .containsExactly(PretrainData.promptIds(policy.tokenizer(), SYSTEM, USER, 40))
                .hasSize(40);
        // and every member has I mask seeds and I rows of K finite log-probs <= 0
        assertThat(g.maskSeeds()).hasNumberOfRows(G);
        assertThat(g.behaviourLogProbs().length).isEqualTo(G);
        for (int m = 0; m < G; m++) {
            assertThat(g.maskSeeds()[m]).hasSize(I);
            assertThat(g.behaviourLogProbs()[m]).hasNumberOfRows(I);
            for (int j = 0; j < I; j++) {
                float[] row = g.behaviourLogProbs()[m][j];
                assertThat(row).hasSize(K);
                for (float v : row) {
                    assertThat(Float.isFinite(v)).isTrue();
                    assertThat(v).isLessThanOrEqualTo(0f);
                }
            }
            // two different masks give two different coupled estimates
            assertThat(g.behaviourLogProbs()[m][0]).isNotEqualTo(g.behaviourLogProbs()[m][1]);
        }
    }

    @Test
    void shouldDeriveMaskSeedsFromTaskSeedWhenRandomMasking() {
        // given a sampled group
        GroupSampler.SampledGroup g =
                new GroupSampler(grpo(true), SAMPLER, SYSTEM).sample(policy, USER, 77L);

        // then the sampling seed and each (member, iteration) mask seed follow from the task seed
        assertThat(g.samplingSeed()).isEqualTo(GroupSampler.samplingSeed(77L)).isNotEqualTo(77L);
        Set<Long> seen = new HashSet<>();
        for (int m = 0; m < G; m++) {
            for (int j = 0; j < I; j++) {
                long s = g.maskSeeds()[m][j];
                assertThat(s).isEqualTo(GroupSampler.maskSeed(77L, m, j, true));
                assertThat(s).isBetween(0L, 0x7FFF_FFFFL);
                seen.add(s);
            }
        }
        // and they are all distinct, and other tasks get other seeds
        assertThat(seen).hasSize(G * I);
        assertThat(GroupSampler.maskSeed(78L, 0, 0, true))
                .isNotEqualTo(GroupSampler.maskSeed(77L, 0, 0, true));
        assertThat(GroupSampler.samplingSeed(78L)).isNotEqualTo(GroupSampler.samplingSeed(77L));
    }

    @Test
    void shouldUseFixedSeedForEveryIterationWhenRandomMaskingOff() {
        // given the release's fixed-mask mode (spec A.3)
        GroupSampler.SampledGroup g =
                new GroupSampler(grpo(false), SAMPLER, SYSTEM).sample(policy, USER, 77L);

        // then every seed is 42, so both iterations carry the same estimate
        for (int m = 0; m < G; m++) {
            assertThat(g.maskSeeds()[m]).containsOnly(GrpoConfig.FIXED_MASK_SEED);
            assertThat(g.behaviourLogProbs()[m][1]).containsExactly(g.behaviourLogProbs()[m][0]);
        }
    }

    @Test
    void shouldReproduceGroupWhenSameTaskSeed() {
        // given one sampler and two task seeds
        GroupSampler sampler = new GroupSampler(grpo(true), SAMPLER, SYSTEM);

        // when the same task is sampled twice (a retried transaction) and another once
        GroupSampler.SampledGroup a = sampler.sample(policy, USER, 2024L);
        GroupSampler.SampledGroup b = sampler.sample(policy, USER, 2024L);
        GroupSampler.SampledGroup other = sampler.sample(policy, USER, 2025L);

        // then the retry is identical, token for token and log-prob for log-prob
        assertThat(b.samples().completions()).isDeepEqualTo(a.samples().completions());
        assertThat(b.samples().decodeOrder()).isDeepEqualTo(a.samples().decodeOrder());
        assertThat(b.maskSeeds()).isDeepEqualTo(a.maskSeeds());
        assertThat(b.behaviourLogProbs()).isDeepEqualTo(a.behaviourLogProbs());
        assertThat(b.texts()).containsExactly(a.texts());
        // and another seed samples something else (T = 1 on 3 x 8 tokens)
        assertThat(other.samples().completions()).isNotEqualTo(a.samples().completions());
        assertThat(other.behaviourLogProbs()).isNotEqualTo(a.behaviourLogProbs());
    }

    @Test
    void shouldMatchScoringOfEachMemberAloneWhenGroupScoredInOneBatch() {
        // given a group scored in one batch of I * G rows
        GrpoConfig cfg = grpo(true);
        GroupSampler.SampledGroup g =
                new GroupSampler(cfg, SAMPLER, SYSTEM).sample(policy, USER, 9L);
        var estimator = LogProbEstimators.create(cfg, policy.tokenizer().maskId());

        // when each (member, iteration) is scored alone, as a learner would re-score it
        for (int m = 0; m < G; m++) {
            for (int j = 0; j < I; j++) {
                float[] alone;
                try (NDManager manager = policy.model().manager().newSubManager()) {
                    ScoringBatch one =
                            ScoringBatch.of(
                                    new int[][] {g.prompt()},
                                    new int[][] {g.samples().completions()[m]},
                                    new long[] {g.maskSeeds()[m][j]},
                                    policy.tokenizer().padId());
                    alone =
                            estimator
                                    .estimate(policy.model().inference(), one, manager)
                                    .toFloatArray();
                }
                // then the row is the same estimate: it depends on its own seed only
                float[] batched = g.behaviourLogProbs()[m][j];
                for (int k = 0; k < K; k++) {
                    assertThat(batched[k]).isCloseTo(alone[k], within(1e-4f));
                }
            }
        }
    }

    @Test
    void shouldNameBothKeysWhenCompletionLengthDiffersFromSampler() {
        assertThatThrownBy(
                        () ->
                                new GroupSampler(
                                        grpo(true),
                                        SamplerConfig.defaults().withLength(16, 16),
                                        ""))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("grpo.maxCompletionLength (8)")
                .hasMessageContaining("sampler.maxNewTokens (16)");
    }
}
