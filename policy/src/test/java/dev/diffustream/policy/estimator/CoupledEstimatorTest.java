package dev.diffustream.policy.estimator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.diffustream.policy.estimator.testing.TableLm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class CoupledEstimatorTest {

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

    private static ScoringBatch batch(long... seeds) {
        int[][] prompts = {{1, 2, 3}, {2, 2, 4}, {4, 1, 0}};
        int[][] completions = {
            {0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1},
            {4, 4, 3, 3, 2, 2, 1, 1, 0, 0, 4, 3},
            {1, 3, 0, 2, 4, 1, 3, 0, 2, 4, 1, 3}
        };
        return ScoringBatch.of(prompts, completions, seeds, 0);
    }

    @Test
    void shouldMaskComplementaryPairAndFullPassButNeverPromptWhenBuildingPasses() {
        // given
        TableLm model = TableLm.random(manager, V, 0.5, 1);
        CoupledEstimator est = new CoupledEstimator(MASK);
        ScoringBatch batch = batch(11L, 12L, 13L);
        // when
        est.estimate(model, batch, manager);
        // then one forward call of 3B rows
        assertThat(model.calls()).hasSize(1);
        assertThat(model.calls().get(0)).containsExactly(9, 15);
        int[][] rows = model.lastTokens();
        for (int b = 0; b < 3; b++) {
            CoupledMask m = est.mask(batch.maskSeed(b), 12);
            assertThat(m.t()).isBetween(0.2, 0.8);
            for (int j = 0; j < 3; j++) {
                for (int c = 0; c < 3; c++) {
                    assertThat(rows[c * 3 + b][j])
                            .as("prompt never masked")
                            .isEqualTo(batch.promptToken(b, j));
                }
            }
            for (int k = 0; k < 12; k++) {
                boolean inFull = rows[b][3 + k] == MASK;
                boolean inPartial = rows[3 + b][3 + k] == MASK;
                boolean inComplement = rows[6 + b][3 + k] == MASK;
                assertThat(inFull).isTrue();
                assertThat(inPartial ^ inComplement).as("exactly one of X1, X2").isTrue();
                assertThat(inPartial).isEqualTo(m.partial()[k]);
                if (!inPartial) {
                    assertThat(rows[3 + b][3 + k]).isEqualTo(batch.completionToken(b, k));
                }
            }
        }
    }

    @Test
    void shouldEqualHandComputedValueWhenLogitsAreConstant() {
        // given logits [0, ln 2, 0, 0, 0, 0] everywhere: p = [1/7, 2/7, 1/7, 1/7, 1/7, 1/7]
        float[] bias = {0f, (float) Math.log(2), 0f, 0f, 0f, 0f};
        TableLm model = TableLm.constant(manager, bias);
        CoupledEstimator est = new CoupledEstimator(MASK);
        ScoringBatch batch =
                ScoringBatch.group(new int[] {3}, new int[][] {{1, 0, 1}}, new long[] {7L});
        // when
        float[] got = est.estimate(model, batch, manager).toFloatArray();
        // then l_k = ½ (lp + w_k lp) with w = 1/t (masked in X1) or 1/(1-t)
        CoupledMask m = est.mask(7L, 3);
        double[] lp = {Math.log(2.0 / 7), Math.log(1.0 / 7), Math.log(2.0 / 7)};
        for (int k = 0; k < 3; k++) {
            double w = m.partial()[k] ? 1 / m.t() : 1 / (1 - m.t());
            assertThat((double) got[k]).isCloseTo(0.5 * (lp[k] + w * lp[k]), within(1e-5));
        }
    }

    @Test
    void shouldMatchReferenceImplementationOnContextDependentModel() {
        // given a model whose logits depend on neighbouring tokens
        TableLm model = TableLm.random(manager, V, 0.8, 4);
        float[] a = model.table("a_weight");
        float[] c = model.table("c_weight");
        float[] bias = model.table("head_bias");
        CoupledEstimator est = new CoupledEstimator(MASK, 0.3, 0.7);
        ScoringBatch batch = batch(101L, 202L, 303L);
        // when
        float[] got = est.estimate(model, batch, manager).toFloatArray();
        // then equal to the formula of spec A.6 computed in plain Java (double precision)
        for (int b = 0; b < 3; b++) {
            CoupledMask m = est.mask(batch.maskSeed(b), 12);
            int[] clean = sequence(batch, b);
            int[] x0 = clean.clone();
            int[] x1 = clean.clone();
            int[] x2 = clean.clone();
            for (int k = 0; k < 12; k++) {
                x0[3 + k] = MASK;
                if (m.partial()[k]) {
                    x1[3 + k] = MASK;
                } else {
                    x2[3 + k] = MASK;
                }
            }
            for (int k = 0; k < 12; k++) {
                int y = clean[3 + k];
                double lp0 = refLogProb(a, c, bias, x0, 3 + k - 1, y);
                double expected =
                        m.partial()[k]
                                ? 0.5 * (lp0 + refLogProb(a, c, bias, x1, 3 + k - 1, y) / m.t())
                                : 0.5
                                        * (lp0
                                                + refLogProb(a, c, bias, x2, 3 + k - 1, y)
                                                        / (1 - m.t()));
                assertThat((double) got[b * 12 + k])
                        .as("row %d token %d", b, k)
                        .isCloseTo(expected, within(1e-4));
            }
        }
    }

    static int[] sequence(ScoringBatch batch, int b) {
        int p = batch.promptLength();
        int[] s = new int[batch.sequenceLength()];
        for (int j = 0; j < p; j++) {
            s[j] = batch.promptToken(b, j);
        }
        for (int k = 0; k < batch.completionLength(); k++) {
            s[p + k] = batch.completionToken(b, k);
        }
        return s;
    }

    /** log_softmax(A[x_j] + C[x_{j+1}] + bias)[y] in double. */
    static double refLogProb(float[] a, float[] c, float[] bias, int[] x, int row, int y) {
        double[] z = new double[V];
        for (int v = 0; v < V; v++) {
            z[v] = a[x[row] * V + v] + bias[v] + (row + 1 < x.length ? c[x[row + 1] * V + v] : 0);
        }
        double max = Double.NEGATIVE_INFINITY;
        for (double d : z) {
            max = Math.max(max, d);
        }
        double sum = 0;
        for (double d : z) {
            sum += Math.exp(d - max);
        }
        return z[y] - max - Math.log(sum);
    }

    @Test
    void shouldRepeatForSameSeedAndChangeForOtherSeed() {
        // given
        TableLm model = TableLm.random(manager, V, 0.8, 4);
        CoupledEstimator est = new CoupledEstimator(MASK);
        // when
        float[] first = est.estimate(model, batch(1L, 2L, 3L), manager).toFloatArray();
        float[] again = est.estimate(model, batch(1L, 2L, 3L), manager).toFloatArray();
        float[] other = est.estimate(model, batch(1L, 2L, 4L), manager).toFloatArray();
        // then rows 0, 1 unchanged, row 2 differs
        assertThat(again).containsExactly(first);
        for (int i = 0; i < 24; i++) {
            assertThat(other[i]).isEqualTo(first[i]);
        }
        boolean differs = false;
        for (int i = 24; i < 36; i++) {
            differs |= other[i] != first[i];
        }
        assertThat(differs).isTrue();
    }

    @Test
    void shouldFlowGradientsToParametersWhenUnderGradientCollector() {
        // given constant logits: d/dbias of log_softmax(bias)[y] = e_y − p
        float[] bias = {0f, (float) Math.log(2), 0f, 0f, 0f, 0f};
        TableLm model = TableLm.constant(manager, bias);
        CoupledEstimator est = new CoupledEstimator(MASK);
        int[] y = {1, 0, 4};
        ScoringBatch batch = ScoringBatch.group(new int[] {3}, new int[][] {y}, new long[] {9L});
        // when
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray estimate = est.estimate(model, batch, manager);
            gc.backward(estimate.sum());
        }
        // then grad = Σ_k coef_k (e_{y_k} − p), coef_k = ½ (1 + w_k)
        CoupledMask m = est.mask(9L, 3);
        double[] p = {1.0 / 7, 2.0 / 7, 1.0 / 7, 1.0 / 7, 1.0 / 7, 1.0 / 7};
        double[] expected = new double[V];
        for (int k = 0; k < 3; k++) {
            double w = m.partial()[k] ? 1 / m.t() : 1 / (1 - m.t());
            double coef = 0.5 * (1 + w);
            for (int v = 0; v < V; v++) {
                expected[v] += coef * ((v == y[k] ? 1 : 0) - p[v]);
            }
        }
        NDArray grad = model.parameters().get("head_bias").getArray().getGradient();
        float[] g = grad.toFloatArray();
        for (int v = 0; v < V; v++) {
            assertThat((double) g[v]).isCloseTo(expected[v], within(1e-5));
        }
        // and the table parameters receive a (non-zero) gradient too
        assertThat(
                        model.parameters()
                                .get("a_weight")
                                .getArray()
                                .getGradient()
                                .abs()
                                .sum()
                                .getFloat())
                .isPositive();
    }

    @Test
    void shouldPassAttentionMaskWhenPromptsAreLeftPadded() {
        // given prompts of different lengths
        TableLm model = TableLm.random(manager, V, 0.5, 2);
        ScoringBatch padded =
                ScoringBatch.of(
                        new int[][] {{1, 2, 3}, {4}},
                        new int[][] {{0, 1}, {1, 0}},
                        new long[] {1, 2},
                        0);
        // when
        new CoupledEstimator(MASK).estimate(model, padded, manager);
        new CoupledEstimator(MASK).estimate(model, padded.withoutAttentionMask(), manager);
        // then
        assertThat(padded.promptLength()).isEqualTo(3);
        assertThat(padded.isRealPromptToken(1, 1)).isFalse();
        assertThat(model.maskPassed()).containsExactly(true, false);
        assertThat(model.lastTokens()[1]).startsWith(0, 0, 4);
    }
}
