package dev.diffustream.policy.estimator;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.diffustream.policy.model.MaskedLm;
import java.util.SplittableRandom;

/**
 * The "decoupled sampling" baseline of DiffuCoder Table 2 (spec §F): the same three passes and
 * weighting as {@link CoupledEstimator}, but the two partial masks are drawn independently instead
 * of as a complementary pair.
 *
 * <pre>
 *   t₁, t₂ ~ U(tMin, tMax) independent;  U¹, U² ~ U[0,1)^K independent
 *   X¹ masks U¹_k &lt; t₁,  X² masks U²_k &lt; t₂
 *   ℓ[k] = ½ · ( lp_0[k] + [U¹_k &lt; t₁]/t₁ · lp_1[k] + [U²_k &lt; t₂]/t₂ · lp_2[k] )
 * </pre>
 *
 * Each partial term is an importance-weighted estimate with the same expectation as its coupled
 * counterpart (so E[ℓ] matches the coupled estimator when t ~ U is symmetric around ½), but a token
 * may be masked in both partial passes or in neither: no coverage guarantee, higher variance. Draw
 * order from the row's seed: t₁, U¹, t₂, U².
 */
public final class DecoupledEstimator implements LogProbEstimator {

    private final int maskId;
    private final double tMin;
    private final double tMax;

    public DecoupledEstimator(int maskId, double tMin, double tMax) {
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

    @Override
    public String name() {
        return "decoupled";
    }

    @Override
    public int passes() {
        return 3;
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
            SplittableRandom rng = new SplittableRandom(batch.maskSeed(b));
            for (int c = 0; c < 3; c++) {
                ShiftedScoring.copyClean(batch, b, noisy, c * rows + b);
            }
            for (int j = 0; j < k; j++) {
                noisy[b * len + p + j] = maskId;
                weights[b * k + j] = 0.5f;
            }
            for (int c = 1; c <= 2; c++) {
                double t = tMin + (tMax - tMin) * rng.nextDouble();
                float w = (float) (0.5 / t);
                int row = c * rows + b;
                for (int j = 0; j < k; j++) {
                    if (rng.nextDouble() < t) {
                        noisy[row * len + p + j] = maskId;
                        weights[row * k + j] = w;
                    }
                }
            }
        }
        return ShiftedScoring.weightedLogProbs(model, batch, noisy, weights, 3, manager);
    }
}
