package dev.diffustream.policy.loss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Spec A.9 against tensors computed by hand. */
class CoupledGrpoLossTest {

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private NDArray arr(float[] v, long... shape) {
        return manager.create(v, new Shape(shape));
    }

    @Test
    void shouldMatchHandComputedLossAndStatsWhenRatiosClip() {
        // given B = 2, K = 3, ε = 0.2 / 0.3, β = 0.1
        // row 0, A = +1: ratios e^0 = 1, e^0.5 ≈ 1.6487 (clipped to 1.3), e^-0.5 ≈ 0.6065 (masked
        // out)
        // row 1, A = −2: ratios e^-0.5 ≈ 0.6065 (clipped to 0.8), e^0.1 ≈ 1.1052, 1
        float[] logps = {-1.0f, -1.0f, -2.0f, -1.5f, -0.9f, -3.0f};
        float[] old = {-1.0f, -1.5f, -1.5f, -1.0f, -1.0f, -3.0f};
        float[] ref = {-1.2f, -1.0f, -2.0f, -1.5f, -1.0f, -2.5f};
        float[] mask = {1, 1, 0, 1, 1, 1};
        NDArray lp = arr(logps, 2, 3);
        lp.setRequiresGradient(true);
        CoupledGrpoLoss loss = new CoupledGrpoLoss(0.2, 0.3, 0.1);
        // when
        PolicyLoss out;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            out =
                    loss.compute(
                            lp,
                            arr(old, 2, 3),
                            arr(ref, 2, 3),
                            arr(new float[] {1f, -2f}, 2),
                            arr(mask, 2, 3));
            gc.backward(out.loss());
        }
        // then, token by token: −min(ρA, clip(ρ)A) + β·(e^{d} − d − 1), d = ref − logp
        double r01 = Math.exp(0.5);
        double r10 = Math.exp(-0.5);
        double r11 = Math.exp(0.1);
        double[] pg = {
            -1.0, // ρ = 1, A = 1
            -Math.min(r01, 1.3), // ratio above 1 + ε_high with A > 0: clipped → −1.3
            0, // masked
            -Math.min(r10 * -2, 0.8 * -2), // = +1.6: clipped (ρ < 0.8, A < 0)
            -Math.min(r11 * -2, r11 * -2), // inside the range
            2.0 // ρ = 1, A = −2
        };
        double[] d = {-0.2, 0.0, 0, 0.0, -0.1, 0.5};
        double total = 0;
        double klSum = 0;
        for (int i = 0; i < 6; i++) {
            if (mask[i] == 0) {
                continue;
            }
            double kl = Math.exp(d[i]) - d[i] - 1;
            klSum += kl;
            total += pg[i] + 0.1 * kl;
        }
        assertThat((double) out.loss().getFloat()).isCloseTo(total / 5, within(1e-5));
        assertThat(out.stats().tokens()).isEqualTo(5);
        assertThat(out.stats().kl()).isCloseTo(klSum / 5, within(1e-6));
        assertThat(out.stats().policyLoss())
                .isCloseTo((pg[0] + pg[1] + pg[3] + pg[4] + pg[5]) / 5, within(1e-5));
        assertThat(out.stats().clipRatioHigh()).isCloseTo(1.0 / 5, within(1e-9));
        assertThat(out.stats().clipRatioLow()).isCloseTo(1.0 / 5, within(1e-9));
        assertThat(out.stats().clipRatioRegion()).isCloseTo(2.0 / 5, within(1e-9));
        // and the gradient: clipped tokens carry only the KL gradient β(1 − e^d)/n; masked tokens 0
        float[] g = lp.getGradient().toFloatArray();
        assertThat((double) g[0])
                .isCloseTo((-1 * 1.0 + 0.1 * (1 - Math.exp(-0.2))) / 5, within(1e-6));
        assertThat((double) g[1]).isCloseTo(0.1 * (1 - Math.exp(0.0)) / 5, within(1e-6));
        assertThat(g[2]).isZero();
        assertThat((double) g[3]).isCloseTo(0.0, within(1e-6));
        assertThat((double) g[4])
                .isCloseTo((2 * r11 + 0.1 * (1 - Math.exp(-0.1))) / 5, within(1e-5));
    }

    @Test
    void shouldUseDetachedCurrentWhenNoOldEstimate() {
        // given one iteration (no stored old), β = 0
        NDArray lp = arr(new float[] {-1f, -2f}, 1, 2);
        lp.setRequiresGradient(true);
        PolicyLoss out;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            out =
                    new CoupledGrpoLoss(0.5, 0.5, 0.0)
                            .compute(
                                    lp,
                                    null,
                                    null,
                                    arr(new float[] {0.5f}, 1),
                                    arr(new float[] {1, 1}, 1, 2));
            gc.backward(out.loss());
        }
        // then ρ = 1: loss = −A, gradient = −A/n per token
        assertThat(out.loss().getFloat()).isEqualTo(-0.5f);
        assertThat(lp.getGradient().toFloatArray()).containsExactly(-0.25f, -0.25f);
        assertThat(out.stats().clipRatioRegion()).isZero();
    }

    @Test
    void shouldRejectMismatchedShapesAndMissingReference() {
        NDArray lp = arr(new float[] {-1f, -2f}, 1, 2);
        CoupledGrpoLoss withKl = new CoupledGrpoLoss(0.5, 0.5, 0.01);
        assertThatThrownBy(
                        () ->
                                withKl.compute(
                                        lp,
                                        lp,
                                        null,
                                        arr(new float[] {1f}, 1),
                                        arr(new float[] {1, 1}, 1, 2)))
                .hasMessageContaining("refLogps is required");
        assertThatThrownBy(
                        () ->
                                withKl.compute(
                                        lp,
                                        lp,
                                        lp,
                                        arr(new float[] {1f, 2f}, 2),
                                        arr(new float[] {1, 1}, 1, 2)))
                .hasMessageContaining("advantages must be (B) with B = 1");
        assertThatThrownBy(
                        () ->
                                withKl.compute(
                                        lp,
                                        lp,
                                        lp,
                                        arr(new float[] {1f}, 1),
                                        arr(new float[] {1, 1}, 2, 1)))
                .hasMessageContaining("lossMask must have shape (1, 2)");
    }
}
