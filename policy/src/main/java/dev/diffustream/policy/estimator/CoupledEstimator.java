package dev.diffustream.policy.estimator;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.diffustream.policy.model.MaskedLm;

/**
 * The Coupled-GRPO per-token log-prob estimate, exactly as spec A.4–A.6 (DiffuCoder Eq. 4/13 with λ
 * = 1; MDC {@code forward_process} and {@code selective_log_softmax}).
 *
 * <p>For each row, with t ~ U(tMin, tMax) and U ~ U[0,1)^K from the row's mask seed ({@link
 * CoupledMask}), three noisy copies — the prompt is never masked:
 *
 * <ul>
 *   <li>X⁰: every completion token is MASK (t = 1);
 *   <li>X¹: completion tokens with U_k &lt; t are MASK;
 *   <li>X²: completion tokens with U_k ≥ t are MASK (the exact complement).
 * </ul>
 *
 * With lp_c[k] = log_softmax(logits_c[P+k−1])[y_k] (shifted, float32),
 *
 * <pre>
 *   ℓ[k] = ½ · ( lp_0[k] + w[k] · lp_{c(k)}[k] ),
 *   c(k) = 1, w[k] = 1/t      if U_k &lt; t   (masked in X¹)
 *   c(k) = 2, w[k] = 1/(1−t)  otherwise     (masked in X²)
 * </pre>
 *
 * The weights multiply <b>log-probs</b> (spec A.15.2): the result is a scaled estimate, not a true
 * log-likelihood; ratios of estimates taken with the same seed stay consistent. The three copies of
 * all B rows go through one forward call of 3B rows.
 *
 * <p>Differences from the release, all deliberate: t is drawn per row from the row's seed (the
 * release draws one t per micro-batch from a re-seeded global RNG); a batch with left-padded
 * prompts passes its attention mask (see {@link ScoringBatch}); logits are not bf16.
 */
public final class CoupledEstimator implements LogProbEstimator {

    private final int maskId;
    private final double tMin;
    private final double tMax;

    /**
     * @param maskId the tokenizer's mask id
     * @param tMin lower bound of t (release 0.2)
     * @param tMax upper bound of t (release 0.8)
     */
    public CoupledEstimator(int maskId, double tMin, double tMax) {
        if (!(tMin > 0 && tMin <= tMax && tMax < 1)) {
            throw new IllegalArgumentException(
                    "mask ratio range must satisfy 0 < tMin <= tMax < 1, got "
                            + tMin
                            + ", "
                            + tMax);
        }
        this.maskId = maskId;
        this.tMin = tMin;
        this.tMax = tMax;
    }

    /** With the release's range t ~ U(0.2, 0.8). */
    public CoupledEstimator(int maskId) {
        this(maskId, 0.2, 0.8);
    }

    @Override
    public String name() {
        return "coupled";
    }

    @Override
    public int passes() {
        return 3;
    }

    /** The noise of one row for this estimator's range. */
    public CoupledMask mask(long seed, int k) {
        return CoupledMask.draw(seed, k, tMin, tMax);
    }

    @Override
    public NDArray estimate(MaskedLm model, ScoringBatch batch, NDManager manager) {
        int rows = batch.rows();
        int p = batch.promptLength();
        int k = batch.completionLength();
        int len = p + k;
        int[] noisy = new int[3 * rows * len];
        float[] weights = new float[3 * rows * k];
        for (int b = 0; b < rows; b++) {
            CoupledMask m = mask(batch.maskSeed(b), k);
            float wPartial = (float) (0.5 / m.t());
            float wComplement = (float) (0.5 / (1.0 - m.t()));
            int full = b;
            int partial = rows + b;
            int complement = 2 * rows + b;
            ShiftedScoring.copyClean(batch, b, noisy, full);
            ShiftedScoring.copyClean(batch, b, noisy, partial);
            ShiftedScoring.copyClean(batch, b, noisy, complement);
            for (int j = 0; j < k; j++) {
                noisy[full * len + p + j] = maskId;
                weights[full * k + j] = 0.5f;
                if (m.partial()[j]) {
                    noisy[partial * len + p + j] = maskId;
                    weights[partial * k + j] = wPartial;
                } else {
                    noisy[complement * len + p + j] = maskId;
                    weights[complement * k + j] = wComplement;
                }
            }
        }
        return ShiftedScoring.weightedLogProbs(model, batch, noisy, weights, 3, manager);
    }
}
