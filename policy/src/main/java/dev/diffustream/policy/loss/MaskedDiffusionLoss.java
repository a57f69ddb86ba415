package dev.diffustream.policy.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.diffustream.policy.estimator.ScoringBatch;
import dev.diffustream.policy.estimator.ShiftedScoring;
import dev.diffustream.policy.model.MaskedLm;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * The masked-diffusion supervised loss used to pretrain the tiny policy (LLaDA/Dream SFT: the
 * negative ELBO of a masked diffusion model, conditioned on an unmasked prompt).
 *
 * <p>Per row b, from the row's seed: t_b ~ U(eps, 1), then U_bk ~ U[0,1) for every completion
 * token; completion token k is replaced by MASK when U_bk &lt; t_b (the prompt is never masked).
 * With the shifted logits of spec A.5 (row P+k−1 predicts y_k),
 *
 * <pre>
 *   CE[b,k] = −log_softmax(logits[b, P+k−1])[y_bk]
 *   loss    = (1/B) Σ_b (1/n_b) Σ_k [U_bk &lt; t_b] · τ[b,k] · CE[b,k] / t_b
 * </pre>
 *
 * where τ[b,k] ∈ {0,1} marks the target tokens (all K by default, padding after {@code <|im_end|>}
 * included, so the model learns to fill the tail) and n_b = max(1, Σ_k τ[b,k]). This is LLaDA's SFT
 * normalisation (per-sequence answer length, then the batch mean): an unbiased per-token estimate
 * of the negative ELBO, ≥ the true per-token NLL in expectation.
 */
public final class MaskedDiffusionLoss {

    private final int maskId;
    private final double eps;

    /**
     * @param maskId the tokenizer's mask id
     * @param eps lower bound of t, in (0, 1) (LLaDA 1e-3)
     */
    public MaskedDiffusionLoss(int maskId, double eps) {
        if (!(eps > 0 && eps < 1)) {
            throw new IllegalArgumentException("eps must be in (0, 1), got " + eps);
        }
        this.maskId = maskId;
        this.eps = eps;
    }

    /** The loss with every completion token a target. */
    public NDArray compute(MaskedLm model, ScoringBatch batch, NDManager manager) {
        return compute(model, batch, null, manager);
    }

    /**
     * @param targets τ [B][K] (1 = in the loss), or null for all tokens
     * @return the scalar loss, differentiable inside a {@code GradientCollector}
     */
    public NDArray compute(
            MaskedLm model, ScoringBatch batch, float[][] targets, NDManager manager) {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(batch, "batch");
        int rows = batch.rows();
        int p = batch.promptLength();
        int k = batch.completionLength();
        int len = p + k;
        if (targets != null && targets.length != rows) {
            throw new IllegalArgumentException(
                    "targets must have " + rows + " rows, got " + targets.length);
        }
        int[] noisy = new int[rows * len];
        float[] weights = new float[rows * k];
        for (int b = 0; b < rows; b++) {
            SplittableRandom rng = new SplittableRandom(batch.maskSeed(b));
            double t = eps + (1 - eps) * rng.nextDouble();
            ShiftedScoring.copyClean(batch, b, noisy, b);
            double n = 0;
            for (int j = 0; j < k; j++) {
                n += targets == null ? 1 : targets[b][j];
            }
            double scale = -1.0 / (t * Math.max(1, n) * rows);
            for (int j = 0; j < k; j++) {
                if (rng.nextDouble() < t) {
                    noisy[b * len + p + j] = maskId;
                    weights[b * k + j] = (float) (scale * (targets == null ? 1 : targets[b][j]));
                }
            }
        }
        NDArray perToken =
                ShiftedScoring.weightedLogProbs(model, batch, noisy, weights, 1, manager); // (B, K)
        NDArray loss = perToken.sum(); // ()
        perToken.close();
        return loss;
    }
}
