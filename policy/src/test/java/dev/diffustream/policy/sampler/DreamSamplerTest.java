package dev.diffustream.policy.sampler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import dev.diffustream.policy.config.RemaskingAlgorithm;
import dev.diffustream.policy.config.SamplerConfig;
import dev.diffustream.policy.estimator.testing.TableLm;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DreamSamplerTest {

    private static final int V = 8;
    private static final int MASK = 7;
    private static final int PAD = 6;

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private static SamplerConfig cfg(
            RemaskingAlgorithm alg, double temp, double topP, int k, int steps) {
        return new SamplerConfig(alg, temp, topP, 0, 0.0, steps, k, 1e-3);
    }

    private static void assertPermutation(int[] order, int k) {
        assertThat(order).hasSize(k);
        assertThat(Arrays.stream(order).sorted().toArray())
                .isEqualTo(IntStream.range(0, k).toArray());
    }

    @Test
    void shouldGiveSameTokensAndOrdersWhenSeedRepeats() {
        // given a random tiny model and the rollout algorithm at T = 1
        TableLm model = TableLm.random(manager, V, 1.0, 11);
        DreamSampler sampler =
                new DreamSampler(cfg(RemaskingAlgorithm.ENTROPY, 1.0, 0.95, 12, 12), MASK, PAD);
        int[] prompt = {1, 2, 3};
        // when
        SampleResult a = sampler.generateGroup(model, prompt, 4, 99L);
        SampleResult b = sampler.generateGroup(model, prompt, 4, 99L);
        SampleResult c = sampler.generateGroup(model, prompt, 4, 100L);
        // then
        assertThat(a.completions()).isDeepEqualTo(b.completions());
        assertThat(a.decodeOrder()).isDeepEqualTo(b.decodeOrder());
        assertThat(Arrays.deepEquals(c.completions(), a.completions())).isFalse();
        for (int[] row : a.completions()) {
            assertThat(row).doesNotContain(MASK);
        }
    }

    @Test
    void shouldRunOneForwardPerStepForAllRowsWhenSamplingGroup() {
        // given
        TableLm model = TableLm.random(manager, V, 1.0, 3);
        DreamSampler sampler =
                new DreamSampler(cfg(RemaskingAlgorithm.ENTROPY, 1.0, 0.95, 10, 5), MASK, PAD);
        // when
        sampler.generateGroup(model, new int[] {1, 2}, 6, 1L);
        // then every forward saw all G = 6 rows of length P + K = 12
        assertThat(model.calls()).hasSize(5);
        assertThat(model.calls()).allSatisfy(s -> assertThat(s).containsExactly(6, 12));
        assertThat(model.maskPassed()).containsOnly(false);
    }

    @Test
    void shouldFollowTransferScheduleAndRecordOrderWhenStepsEqualTokens() {
        // given K = steps = 16 with maskgit_plus
        TableLm model = TableLm.random(manager, V, 1.0, 5);
        DreamSampler sampler =
                new DreamSampler(cfg(RemaskingAlgorithm.MASKGIT_PLUS, 1.0, 1.0, 16, 16), MASK, PAD);
        // when
        SampleResult r = sampler.generateGroup(model, new int[] {4}, 3, 7L);
        // then the reveal steps follow D.3: nothing at step 0, one per step, two at the last step
        int[] expected = TransferSchedule.counts(16, 16, 1e-3);
        for (int b = 0; b < 3; b++) {
            int[] perStep = new int[16];
            for (int s : r.revealStep()[b]) {
                perStep[s]++;
            }
            assertThat(perStep).isEqualTo(expected);
            assertPermutation(r.decodeOrder()[b], 16);
            // and the order lists positions by step
            int[] steps = r.revealStep()[b];
            int[] stepsInOrder = Arrays.stream(r.decodeOrder()[b]).map(p -> steps[p]).toArray();
            assertThat(stepsInOrder).isSorted();
        }
        // the last step runs a forward only while something is masked: 16 forwards
        assertThat(model.calls()).hasSize(16);
    }

    @Test
    void shouldRevealMostConfidentPositionFirstWhenGreedy() {
        // given a model that is sure about the token after token 5 (A row 5 peaked) and unsure
        // elsewhere; the prompt ends in 5 so completion position 0 is predicted from row P-1 = 5
        float[] a = new float[V * V];
        a[5 * V + 2] = 20f;
        TableLm model = TableLm.of(manager, a, new float[V * V], new float[V]);
        for (RemaskingAlgorithm alg :
                new RemaskingAlgorithm[] {
                    RemaskingAlgorithm.ENTROPY,
                    RemaskingAlgorithm.MASKGIT_PLUS,
                    RemaskingAlgorithm.TOPK_MARGIN
                }) {
            DreamSampler sampler = new DreamSampler(cfg(alg, 0.0, 1.0, 4, 4), MASK, PAD);
            // when
            SampleResult r = sampler.generate(model, new int[][] {{1, 5}}, 1L);
            // then position 0 is revealed first (at step 1, step 0 reveals nothing) with token 2
            assertThat(r.decodeOrder()[0][0]).as(alg.wireName()).isEqualTo(0);
            assertThat(r.completions()[0][0]).isEqualTo(2);
        }
    }

    @Test
    void shouldNeverDrawTokensOutsideNucleusWhenTopPFilters() {
        // given constant probabilities 0.5, 0.3, 0.2 (others ~0) at every position
        float[] bias = new float[V];
        Arrays.fill(bias, -1e4f);
        bias[0] = (float) Math.log(0.5);
        bias[1] = (float) Math.log(0.3);
        bias[2] = (float) Math.log(0.2);
        TableLm model = TableLm.constant(manager, bias);
        // when top-p 0.6 (the first token crossing 0.6 is kept: {0, 1}), top-p 0.4 (only {0})
        Set<Integer> seen06 = tokens(model, cfg(RemaskingAlgorithm.ENTROPY, 1.0, 0.6, 40, 10));
        Set<Integer> seen04 = tokens(model, cfg(RemaskingAlgorithm.ENTROPY, 1.0, 0.4, 40, 10));
        Set<Integer> seen10 = tokens(model, cfg(RemaskingAlgorithm.ENTROPY, 1.0, 1.0, 40, 10));
        // then
        assertThat(seen06).containsExactlyInAnyOrder(0, 1);
        assertThat(seen04).containsExactly(0);
        assertThat(seen10).containsExactlyInAnyOrder(0, 1, 2);
        // and top-k 2 keeps {0, 1}
        Set<Integer> topK2 =
                tokens(
                        model,
                        new SamplerConfig(
                                RemaskingAlgorithm.ORIGIN, 1.0, 1.0, 2, 0.0, 10, 40, 1e-3));
        assertThat(topK2).containsExactlyInAnyOrder(0, 1);
    }

    private static Set<Integer> tokens(TableLm model, SamplerConfig c) {
        SampleResult r =
                new DreamSampler(c, MASK, PAD).generateGroup(model, new int[] {3}, 8, 123L);
        Set<Integer> seen = new HashSet<>();
        for (int[] row : r.completions()) {
            for (int t : row) {
                seen.add(t);
            }
        }
        return seen;
    }

    @Test
    void shouldSampleCategoricalFrequenciesWhenTemperatureIsOne() {
        // given probabilities 0.5 / 0.3 / 0.2
        float[] bias = new float[V];
        Arrays.fill(bias, -1e4f);
        bias[0] = (float) Math.log(0.5);
        bias[1] = (float) Math.log(0.3);
        bias[2] = (float) Math.log(0.2);
        TableLm model = TableLm.constant(manager, bias);
        DreamSampler sampler =
                new DreamSampler(cfg(RemaskingAlgorithm.ORIGIN, 1.0, 1.0, 200, 4), MASK, PAD);
        // when 10 × 200 draws
        SampleResult r = sampler.generateGroup(model, new int[] {3}, 10, 5L);
        int[] hist = new int[V];
        for (int[] row : r.completions()) {
            for (int t : row) {
                hist[t]++;
            }
        }
        // then frequencies within ~4 sigma of 0.5, 0.3, 0.2
        assertThat(hist[0] / 2000.0).isBetween(0.455, 0.545);
        assertThat(hist[1] / 2000.0).isBetween(0.26, 0.34);
        assertThat(hist[2] / 2000.0).isBetween(0.165, 0.235);
    }

    @Test
    void shouldPassAttentionMaskWhenPromptsHaveDifferentLengths() {
        // given
        TableLm model = TableLm.random(manager, V, 1.0, 9);
        DreamSampler sampler =
                new DreamSampler(cfg(RemaskingAlgorithm.ENTROPY, 1.0, 0.95, 6, 3), MASK, PAD);
        // when
        SampleResult r = sampler.generate(model, new int[][] {{1, 2, 3}, {4}}, 2L);
        // then P = 3 (left padded) and the model got a mask every step
        assertThat(r.promptLength()).isEqualTo(3);
        assertThat(model.maskPassed()).hasSize(3).containsOnly(true);
        assertThat(model.calls().get(0)).containsExactly(2, 9);
    }

    @Test
    void shouldRevealEverythingWithPermutationOrderWhenOriginOrAlgTemp() {
        // given
        TableLm model = TableLm.random(manager, V, 1.0, 21);
        SamplerConfig origin = cfg(RemaskingAlgorithm.ORIGIN, 0.7, 0.9, 20, 8);
        SamplerConfig algTemp =
                new SamplerConfig(RemaskingAlgorithm.ENTROPY, 0.7, 0.9, 3, 0.5, 8, 20, 1e-3);
        for (SamplerConfig c : new SamplerConfig[] {origin, algTemp}) {
            // when
            SampleResult r =
                    new DreamSampler(c, MASK, PAD).generateGroup(model, new int[] {1}, 5, 3L);
            SampleResult again =
                    new DreamSampler(c, MASK, PAD).generateGroup(model, new int[] {1}, 5, 3L);
            // then
            for (int b = 0; b < 5; b++) {
                assertPermutation(r.decodeOrder()[b], 20);
                assertThat(r.completions()[b]).doesNotContain(MASK);
            }
            assertThat(again.decodeOrder()).isDeepEqualTo(r.decodeOrder());
        }
    }

    @Test
    void shouldRejectTokenIdsOutsideVocabulary() {
        TableLm model = TableLm.random(manager, V, 1.0, 9);
        DreamSampler sampler =
                new DreamSampler(SamplerConfig.defaults().withLength(4, 4), MASK, PAD);
        assertThatThrownBy(() -> sampler.generate(model, new int[][] {{1, 99}}, 1L))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("prompt row 0")
                .hasMessageContaining("99");
    }
}
