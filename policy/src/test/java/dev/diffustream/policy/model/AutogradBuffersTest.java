package dev.diffustream.policy.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import dev.diffustream.policy.estimator.CoupledEstimator;
import dev.diffustream.policy.estimator.LogProbEstimator;
import dev.diffustream.policy.estimator.ScoringBatch;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Autograd keeps the tensors an op needs for its backward pass (gather keeps its index, mul its
 * other factor, the embedding its token ids). On the CPU, DJL's {@code manager.create(javaArray)}
 * aliases a direct buffer that Java frees once the creating handle is closed and a GC runs. An
 * upload that a sub-manager closes before {@code backward()} must therefore own its memory, or the
 * backward pass reads freed memory: an "index … out of bounds" error in CI, or silently wrong
 * gradients.
 */
class AutogradBuffersTest {

    private static ScoringBatch batch() {
        int[][] prompts = {{2, 3, 4}, {5, 6, 7}, {8, 9, 2}};
        int[][] completions = {
            {3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5, 1},
            {9, 8, 7, 6, 5, 4, 3, 2, 9, 8, 1, 0},
            {2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 1}
        };
        return ScoringBatch.of(prompts, completions, new long[] {11, 12, 13}, 0);
    }

    /**
     * Gradients of the summed coupled log-probs; {@code churn} runs between forward and backward.
     */
    private static Map<String, float[]> gradients(
            PolicyModel model, LogProbEstimator est, ScoringBatch batch, Runnable churn) {
        model.zeroGradients();
        try (NDManager m = model.manager().newSubManager();
                GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray loss = est.estimate(model, batch, m).sum();
            churn.run();
            gc.backward(loss);
        }
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : model.parameters().entrySet()) {
            out.put(e.getKey(), e.getValue().getArray().getGradient().toFloatArray());
        }
        return out;
    }

    /**
     * Lets the collector free every unreachable direct buffer, then hands the freed blocks out
     * again (same sizes) filled with 0xFF: a stale alias then reads NaN floats and index −1.
     */
    private static List<ByteBuffer> freeAndReuse(int... sizes) {
        List<ByteBuffer> held = new ArrayList<>();
        for (int round = 0; round < 4; round++) {
            System.gc();
            try {
                Thread.sleep(30);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            for (int size : sizes) {
                for (int i = 0; i < 64; i++) {
                    ByteBuffer b = ByteBuffer.allocateDirect(size);
                    while (b.hasRemaining()) {
                        b.put((byte) 0xFF);
                    }
                    held.add(b);
                }
            }
        }
        return held;
    }

    @Test
    void shouldGiveTheSameGradientsWhenUploadedBuffersAreCollectedBeforeBackward() {
        // given a tiny model and the coupled estimator: 3 passes over 3 rows, R = 9, L = 15, K = 12
        try (PolicyModel model = PolicyModel.create(TinyConfigs.gqa())) {
            LogProbEstimator est = new CoupledEstimator(10);
            ScoringBatch batch = batch();
            Map<String, float[]> quiet = gradients(model, est, batch, () -> {});

            // when a GC runs between forward and backward and the freed memory is reused
            List<List<ByteBuffer>> keep = new ArrayList<>();
            Map<String, float[]> churned =
                    gradients(
                            model,
                            est,
                            batch,
                            () -> keep.add(freeAndReuse(9 * 15 * 4, 9 * 12 * 8, 9 * 12 * 4)));

            // then the backward pass read the same tokens, targets and weights as before
            assertThat(keep).hasSize(1);
            for (String name : quiet.keySet()) {
                assertThat(churned.get(name))
                        .as("gradient of %s", name)
                        .containsExactly(quiet.get(name));
            }
        }
    }
}
