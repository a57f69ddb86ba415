package dev.diffustream.policy.loss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.diffustream.policy.estimator.ScoringBatch;
import dev.diffustream.policy.estimator.testing.TableLm;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MaskedDiffusionLossTest {

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
    void shouldWeightMaskedCrossEntropyByInverseTimeWhenLogitsAreConstant() {
        // given constant logits (p(1) = 2/7, others 1/7), two rows of K = 6
        float[] bias = {0f, (float) Math.log(2), 0f, 0f, 0f, 0f};
        TableLm model = TableLm.constant(manager, bias);
        int[][] y = {{1, 1, 0, 2, 3, 1}, {0, 0, 0, 1, 1, 1}};
        ScoringBatch batch = ScoringBatch.group(new int[] {4, 4}, y, new long[] {3L, 8L});
        // when
        float loss = new MaskedDiffusionLoss(MASK, 1e-3).compute(model, batch, manager).getFloat();
        // then (1/B) Σ_b (1/K) Σ_k [U<t] CE/t with the rows' own draws
        double expected = 0;
        int[][] tokens = model.lastTokens();
        for (int b = 0; b < 2; b++) {
            SplittableRandom rng = new SplittableRandom(b == 0 ? 3L : 8L);
            double t = 1e-3 + (1 - 1e-3) * rng.nextDouble();
            for (int k = 0; k < 6; k++) {
                boolean masked = rng.nextDouble() < t;
                assertThat(tokens[b][2 + k] == MASK).isEqualTo(masked);
                if (masked) {
                    expected += -Math.log(y[b][k] == 1 ? 2.0 / 7 : 1.0 / 7) / t / 6 / 2;
                }
            }
            assertThat(tokens[b][0]).isEqualTo(4);
        }
        assertThat((double) loss).isCloseTo(expected, within(1e-5));
    }

    @Test
    void shouldLowerLossAfterGradientStepsOnTinyModel() {
        // given a context-dependent model and a fixed target
        TableLm model = TableLm.random(manager, 6, 0.1, 7);
        int[][] y = {{1, 2, 3, 4, 1, 2, 3, 4}};
        MaskedDiffusionLoss mdl = new MaskedDiffusionLoss(MASK, 1e-3);
        // when plain SGD for 30 steps over rotating seeds
        double first = 0;
        double last = 0;
        for (int step = 0; step < 30; step++) {
            ScoringBatch batch = ScoringBatch.group(new int[] {0}, y, new long[] {step % 5});
            try (NDManager sm = manager.newSubManager();
                    GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray loss = mdl.compute(model, batch, sm);
                gc.backward(loss);
                if (step < 5) {
                    first += loss.getFloat();
                } else if (step >= 25) {
                    last += loss.getFloat();
                }
            }
            for (var p : model.parameters().values()) {
                NDArray w = p.getArray();
                NDArray g = w.getGradient();
                w.subi(g.mul(0.5f));
                g.subi(g);
                g.close();
            }
        }
        // then the same five seeds give a lower loss
        assertThat(last).isLessThan(first * 0.8);
    }
}
