package dev.diffustream.policy.loss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.diffustream.policy.config.ImportanceCapMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** AReaL's decoupled objective against tensors computed by hand. */
class DecoupledPpoLossTest {

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
    void shouldWeightByProximalOverBehaviourAndFilterAboveCap() {
        // given A = 1 on 4 tokens; θ = prox on tokens 0..2, θ above prox on token 3
        float[] theta = {-1f, -1f, -1f, -0.5f};
        float[] prox = {-1f, -1f, -1f, -1f};
        // weights w = e^{prox − behav}: 1, e^{0.5} ≈ 1.65, e^{2} ≈ 7.39 (> cap 5), e^{-1} ≈ 0.37
        float[] behav = {-1f, -1.5f, -3f, 0f};
        NDArray lp = arr(theta, 1, 4);
        lp.setRequiresGradient(true);
        DecoupledPpoLoss filter =
                new DecoupledPpoLoss(0.2, 0.2, 0.0, 5.0, ImportanceCapMode.FILTER);
        // when
        PolicyLoss out;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            out =
                    filter.compute(
                            lp,
                            arr(prox, 1, 4),
                            arr(behav, 1, 4),
                            null,
                            arr(new float[] {1f}, 1),
                            arr(new float[] {1, 1, 1, 1}, 1, 4));
            gc.backward(out.loss());
        }
        // then per token −w'·min(ρ, clip ρ): ρ = 1, 1, 1 (filtered), e^{0.5} → clipped to 1.2
        double w1 = Math.exp(0.5);
        double w3 = Math.exp(-1);
        double expected = (-1 - w1 - 0 - w3 * 1.2) / 4;
        assertThat((double) out.loss().getFloat()).isCloseTo(expected, within(1e-5));
        assertThat(out.stats().cappedFraction()).isEqualTo(0.25);
        assertThat(out.stats().importanceWeightMean())
                .isCloseTo((1 + w1 + Math.exp(2) + w3) / 4, within(1e-4));
        assertThat(out.stats().clipRatioHigh()).isEqualTo(0.25);
        // gradient: −w'·ρ·A/n where unclipped, 0 where clipped or filtered
        float[] g = lp.getGradient().toFloatArray();
        assertThat((double) g[0]).isCloseTo(-0.25, within(1e-6));
        assertThat((double) g[1]).isCloseTo(-w1 / 4, within(1e-6));
        assertThat(g[2]).isZero();
        assertThat(g[3]).isZero();
    }

    @Test
    void shouldTruncateAtCapAndReduceToGrpoWhenProximalIsBehaviour() {
        float[] theta = {-1f, -1f};
        float[] prox = {-1f, -1f};
        float[] behav = {-3f, -1f};
        NDArray a = arr(new float[] {-1f}, 1);
        NDArray m = arr(new float[] {1, 1}, 1, 2);
        // truncate: w = min(e^2, 5) = 5 and 1 → loss = −(5·(−1) + 1·(−1))/2 = 3
        PolicyLoss t =
                new DecoupledPpoLoss(0.2, 0.2, 0.0, 5.0, ImportanceCapMode.TRUNCATE)
                        .compute(arr(theta, 1, 2), arr(prox, 1, 2), arr(behav, 1, 2), null, a, m);
        assertThat(t.loss().getFloat()).isCloseTo(3f, within(1e-5f));
        // prox = behav: equals the coupled GRPO loss with old = prox
        float[] th2 = {-0.7f, -1.4f};
        float[] ref = {-0.9f, -1.0f};
        PolicyLoss dec =
                new DecoupledPpoLoss(0.2, 0.2, 0.05, 5.0, ImportanceCapMode.FILTER)
                        .compute(
                                arr(th2, 1, 2),
                                arr(prox, 1, 2),
                                arr(prox, 1, 2),
                                arr(ref, 1, 2),
                                a,
                                m);
        PolicyLoss grpo =
                new CoupledGrpoLoss(0.2, 0.2, 0.05)
                        .compute(arr(th2, 1, 2), arr(prox, 1, 2), arr(ref, 1, 2), a, m);
        assertThat(dec.loss().getFloat()).isCloseTo(grpo.loss().getFloat(), within(1e-6f));
        assertThat(dec.stats().kl()).isCloseTo(grpo.stats().kl(), within(1e-9));
    }
}
