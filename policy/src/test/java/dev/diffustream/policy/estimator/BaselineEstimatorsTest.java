package dev.diffustream.policy.estimator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import dev.diffustream.policy.config.EstimatorKind;
import dev.diffustream.policy.config.GrpoConfig;
import dev.diffustream.policy.estimator.testing.TableLm;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The d1 and decoupled baselines (spec G.1, F Table 2) and the completion loss mask (A.2). */
class BaselineEstimatorsTest {

    private static final int V = 6;
    private static final int MASK = 5;

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    @Test
    void shouldMaskWholeCompletionAndSomePromptTokensWhenD1() {
        // given a 200-token prompt and p = 0.15, three passes
        int[] prompt = new int[200];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = i % 5;
        }
        TableLm model = TableLm.random(manager, V, 0.5, 3);
        D1Estimator d1 = new D1Estimator(MASK, 0.15, 3);
        ScoringBatch batch =
                ScoringBatch.group(prompt, new int[][] {{1, 2, 3, 4}}, new long[] {77L});
        // when
        d1.estimate(model, batch, manager);
        // then one call of 3 rows; completion all MASK; prompt masked ~15% and differently per pass
        assertThat(model.calls().get(0)).containsExactly(3, 204);
        int[][] rows = model.lastTokens();
        int total = 0;
        for (int[] row : rows) {
            for (int k = 200; k < 204; k++) {
                assertThat(row[k]).isEqualTo(MASK);
            }
            for (int j = 0; j < 200; j++) {
                total += row[j] == MASK ? 1 : 0;
            }
        }
        assertThat(total / 600.0).isBetween(0.10, 0.20);
        assertThat(rows[0]).isNotEqualTo(rows[1]);
    }

    @Test
    void shouldReturnExactLogProbWhenD1OnConstantModel() {
        // given constant logits: every pass gives log p(y), the average too
        float[] bias = {0f, (float) Math.log(2), 0f, 0f, 0f, 0f};
        TableLm model = TableLm.constant(manager, bias);
        ScoringBatch batch =
                ScoringBatch.group(new int[] {3, 3}, new int[][] {{1, 0}}, new long[] {5L});
        // when
        float[] got = new D1Estimator(MASK, 0.15, 2).estimate(model, batch, manager).toFloatArray();
        // then
        assertThat((double) got[0]).isCloseTo(Math.log(2.0 / 7), within(1e-6));
        assertThat((double) got[1]).isCloseTo(Math.log(1.0 / 7), within(1e-6));
    }

    @Test
    void shouldDrawIndependentMasksWithWeightsWhenDecoupled() {
        // given constant logits, so each pass contributes its weight times log p(y)
        float[] bias = {0f, (float) Math.log(2), 0f, 0f, 0f, 0f};
        TableLm model = TableLm.constant(manager, bias);
        int k = 64;
        int[] y = new int[k];
        for (int i = 0; i < k; i++) {
            y[i] = i % 2;
        }
        ScoringBatch batch = ScoringBatch.group(new int[] {3}, new int[][] {y}, new long[] {31L});
        // when
        float[] got =
                new DecoupledEstimator(MASK, 0.2, 0.8)
                        .estimate(model, batch, manager)
                        .toFloatArray();
        int[][] rows = model.lastTokens();
        // then the masks are those of the row's RNG (t1, U1, t2, U2) and not complementary
        SplittableRandom rng = new SplittableRandom(31L);
        double t1 = 0.2 + 0.6 * rng.nextDouble();
        boolean[] m1 = new boolean[k];
        for (int i = 0; i < k; i++) {
            m1[i] = rng.nextDouble() < t1;
        }
        double t2 = 0.2 + 0.6 * rng.nextDouble();
        boolean[] m2 = new boolean[k];
        for (int i = 0; i < k; i++) {
            m2[i] = rng.nextDouble() < t2;
        }
        int both = 0;
        int neither = 0;
        for (int i = 0; i < k; i++) {
            assertThat(rows[0][1 + i]).isEqualTo(MASK);
            assertThat(rows[1][1 + i] == MASK).isEqualTo(m1[i]);
            assertThat(rows[2][1 + i] == MASK).isEqualTo(m2[i]);
            both += m1[i] && m2[i] ? 1 : 0;
            neither += !m1[i] && !m2[i] ? 1 : 0;
            double lp = Math.log(y[i] == 1 ? 2.0 / 7 : 1.0 / 7);
            double expected = 0.5 * (lp + (m1[i] ? lp / t1 : 0) + (m2[i] ? lp / t2 : 0));
            assertThat((double) got[i]).isCloseTo(expected, within(1e-5));
        }
        assertThat(both + neither)
                .as("independent masks overlap or miss somewhere in 64 tokens")
                .isPositive();
    }

    @Test
    void shouldBuildEstimatorNamedByConfig() {
        GrpoConfig d = GrpoConfig.defaults();
        assertThat(LogProbEstimators.create(d, MASK)).isInstanceOf(CoupledEstimator.class);
        GrpoConfig d1 =
                new GrpoConfig(
                        d.numGenerations(),
                        d.numIterations(),
                        EstimatorKind.D1,
                        d.maskRatioMin(),
                        d.maskRatioMax(),
                        d.randomMasking(),
                        d.maskSeedCoupling(),
                        d.pMaskPrompt(),
                        d.epsilonLow(),
                        d.epsilonHigh(),
                        d.beta(),
                        d.loss(),
                        d.importanceWeightCap(),
                        d.importanceCapMode(),
                        d.learningRate(),
                        d.adamBeta1(),
                        d.adamBeta2(),
                        d.adamEpsilon(),
                        d.weightDecay(),
                        d.maxGradNorm(),
                        d.lrSchedule(),
                        d.warmupRatio(),
                        d.minLrRate(),
                        d.scheduleSteps(),
                        d.syncRefModel(),
                        d.refModelSyncSteps(),
                        d.refModelMixupAlpha(),
                        d.maxPromptLength(),
                        d.maxCompletionLength());
        assertThat(LogProbEstimators.create(d1, MASK)).isInstanceOf(D1Estimator.class);
        assertThat(LogProbEstimators.create(d1, MASK).passes()).isEqualTo(1);
    }

    @Test
    void shouldIncludeFirstImEndAndNothingAfterWhenBuildingLossMask() {
        // given im_end = 9
        int[][] completions = {{1, 2, 9, 9, 0}, {1, 1, 1, 1, 1}, {9, 3, 3, 3, 3}};
        // when
        float[][] m = CompletionMask.of(completions, 9);
        // then
        assertThat(m[0]).containsExactly(1, 1, 1, 0, 0);
        assertThat(m[1]).containsExactly(1, 1, 1, 1, 1);
        assertThat(m[2]).containsExactly(1, 0, 0, 0, 0);
        assertThat(CompletionMask.of(completions, 9, manager).sum().getFloat()).isEqualTo(9f);
    }

    @Test
    void shouldRejectRaggedOrMismatchedBatches() {
        assertThatThrownBy(
                        () ->
                                ScoringBatch.of(
                                        new int[][] {{1}, {2}},
                                        new int[][] {{1, 2}, {1}},
                                        new long[] {1, 2},
                                        0))
                .hasMessageContaining("completion row 1")
                .hasMessageContaining("K = 2");
        assertThatThrownBy(
                        () ->
                                ScoringBatch.of(
                                        new int[][] {{1}}, new int[][] {{1}}, new long[] {1, 2}, 0))
                .hasMessageContaining("same number of rows");
        assertThatThrownBy(
                        () ->
                                ScoringBatch.of(
                                        new int[][] {{}}, new int[][] {{1}}, new long[] {1}, 0))
                .hasMessageContaining("prompt row 0 is empty");
        assertThatThrownBy(() -> new CoupledEstimator(MASK, 0.5, 0.4)).hasMessageContaining("0.5");
    }
}
