package dev.diffustream.policy.estimator;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.diffustream.policy.model.MaskedLm;
import java.util.SplittableRandom;

/**
 * d1's one-step estimator (diffu-GRPO; spec G.1): the completion is fully masked and each real
 * prompt token is masked independently with probability {@code pMaskPrompt}; the estimate is the
 * log-prob of each completion token in that single pass, with no 1/t weight.
 *
 * <pre>
 *   ℓ[k] = (1/n) Σ_{i=1..n} log_softmax(logits_i[P+k−1])[y_k]
 * </pre>
 *
 * With {@code passes = n > 1} it averages n independent prompt masks (used to compare estimators at
 * an equal number of forward passes); d1 itself uses n = 1.
 *
 * <p>Difference from d1: d1 targets LLaDA, which has <b>no logit shift</b> (the logit at position i
 * scores token i). Our models keep the shifted convention (spec A.5), so y_k is scored from row
 * P+k−1 as in the other estimators — for k = 0 that row is the last prompt token, which d1's prompt
 * masking may itself mask. The masks are drawn from the row's seed (one Bernoulli per prompt
 * position, pass after pass); d1 seeds them per iteration with the global RNG.
 */
public final class D1Estimator implements LogProbEstimator {

    private final int maskId;
    private final double pMaskPrompt;
    private final int passes;

    /**
     * @param maskId the tokenizer's mask id
     * @param pMaskPrompt probability of masking a prompt token, in [0, 1) (d1 recipe 0.15)
     * @param passes independent prompt masks averaged, ≥ 1 (d1: 1)
     */
    public D1Estimator(int maskId, double pMaskPrompt, int passes) {
        if (!(pMaskPrompt >= 0 && pMaskPrompt < 1)) {
            throw new IllegalArgumentException("pMaskPrompt must be in [0, 1), got " + pMaskPrompt);
        }
        if (passes < 1) {
            throw new IllegalArgumentException("passes must be >= 1, got " + passes);
        }
        this.maskId = maskId;
        this.pMaskPrompt = pMaskPrompt;
        this.passes = passes;
    }

    /** d1 as released: one pass, p_mask_prompt 0.15. */
    public D1Estimator(int maskId) {
        this(maskId, 0.15, 1);
    }

    @Override
    public String name() {
        return "d1";
    }

    @Override
    public int passes() {
        return passes;
    }

    @Override
    public NDArray estimate(MaskedLm model, ScoringBatch batch, NDManager manager) {
        int rows = batch.rows();
        int p = batch.promptLength();
        int k = batch.completionLength();
        int len = p + k;
        int[] noisy = new int[passes * rows * len];
        float[] weights = new float[passes * rows * k];
        float w = 1f / passes;
        for (int b = 0; b < rows; b++) {
            SplittableRandom rng = new SplittableRandom(batch.maskSeed(b));
            for (int c = 0; c < passes; c++) {
                int row = c * rows + b;
                ShiftedScoring.copyClean(batch, b, noisy, row);
                for (int j = 0; j < p; j++) {
                    boolean masked = rng.nextDouble() < pMaskPrompt;
                    if (masked && batch.isRealPromptToken(b, j)) {
                        noisy[row * len + j] = maskId;
                    }
                }
                for (int j = 0; j < k; j++) {
                    noisy[row * len + p + j] = maskId;
                    weights[row * k + j] = w;
                }
            }
        }
        return ShiftedScoring.weightedLogProbs(model, batch, noisy, weights, passes, manager);
    }
}
