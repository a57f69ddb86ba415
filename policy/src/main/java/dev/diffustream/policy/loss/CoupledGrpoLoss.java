package dev.diffustream.policy.loss;

import ai.djl.ndarray.NDArray;
import dev.diffustream.policy.config.GrpoConfig;
import java.util.Objects;

/**
 * The Coupled-GRPO loss of spec A.9 (MDC {@code compute_loss}; TRL GRPO with clipping; DiffuCoder
 * Eq. 5 with the coupled estimates of A.6 in place of exact log-probs).
 *
 * <p>Dimension letters: B rows, K completion tokens.
 *
 * <pre>
 *   logRatio     = ℓ_new − ℓ_old                                   (B, K)
 *   ratio        = exp(logRatio)
 *   clippedRatio = clip(ratio, 1 − ε_low, 1 + ε_high)
 *   kl           = exp(ℓ_ref − ℓ_new) − (ℓ_ref − ℓ_new) − 1         (Schulman's k3)
 *   perTokenLoss = −min(ratio·A, clippedRatio·A) + β·kl
 *   loss         = Σ_{b,k} perTokenLoss·m / max(1, Σ_{b,k} m)       (token-level mean, "bnpo")
 * </pre>
 *
 * A is one advantage per row, broadcast over its tokens; m is the completion mask of spec A.2. With
 * one GRPO iteration there is no stored old estimate and ℓ_old = detach(ℓ_new), so the ratio is
 * exactly 1 and only its gradient matters. Release values: ε_low = ε_high = 0.5, β = 0.01.
 */
public final class CoupledGrpoLoss {

    private final double epsilonLow;
    private final double epsilonHigh;
    private final double beta;

    public CoupledGrpoLoss(double epsilonLow, double epsilonHigh, double beta) {
        if (!(epsilonLow >= 0 && epsilonLow < 1) || !(epsilonHigh >= 0) || !(beta >= 0)) {
            throw new IllegalArgumentException(
                    "need 0 <= epsilonLow < 1, epsilonHigh >= 0, beta >= 0, got "
                            + epsilonLow
                            + ", "
                            + epsilonHigh
                            + ", "
                            + beta);
        }
        this.epsilonLow = epsilonLow;
        this.epsilonHigh = epsilonHigh;
        this.beta = beta;
    }

    /** ε_low, ε_high and β of a GRPO config. */
    public static CoupledGrpoLoss fromConfig(GrpoConfig config) {
        return new CoupledGrpoLoss(config.epsilonLow(), config.epsilonHigh(), config.beta());
    }

    /**
     * @param logps ℓ_new (B, K), with gradient
     * @param oldLogps ℓ_old (B, K), or null for detach(ℓ_new) (one iteration)
     * @param refLogps ℓ_ref (B, K); may be null only when β = 0
     * @param advantages A (B)
     * @param lossMask m (B, K), 1 for loss tokens
     */
    public PolicyLoss compute(
            NDArray logps,
            NDArray oldLogps,
            NDArray refLogps,
            NDArray advantages,
            NDArray lossMask) {
        Objects.requireNonNull(logps, "logps");
        Objects.requireNonNull(advantages, "advantages");
        Objects.requireNonNull(lossMask, "lossMask");
        LossInputs.requireAdvantages(advantages, logps.getShape());
        LossInputs.requireSameShape("oldLogps", oldLogps, logps.getShape());
        LossInputs.requireSameShape("refLogps", refLogps, logps.getShape());
        LossInputs.requireSameShape("lossMask", lossMask, logps.getShape());
        if (beta > 0 && refLogps == null) {
            throw new IllegalArgumentException("refLogps is required when beta = " + beta + " > 0");
        }
        long rows = logps.getShape().get(0);
        NDArray old = oldLogps != null ? oldLogps : logps.stopGradient();
        NDArray a = advantages.reshape(rows, 1); // (B, 1)

        NDArray logRatio = logps.sub(old); // (B, K)
        NDArray ratio = logRatio.exp(); // (B, K)
        NDArray clippedRatio = ratio.clip(1 - epsilonLow, 1 + epsilonHigh); // (B, K)
        NDArray perTokenLoss = ratio.mul(a).minimum(clippedRatio.mul(a)).neg(); // (B, K)
        NDArray kl = null;
        if (refLogps != null) {
            NDArray refDiff = refLogps.sub(logps); // (B, K)
            kl = refDiff.exp().sub(refDiff).sub(1f); // (B, K)
            if (beta > 0) {
                perTokenLoss = perTokenLoss.add(kl.mul((float) beta)); // (B, K)
            }
        }
        float[] mask = lossMask.toFloatArray();
        double tokens = 0;
        for (float v : mask) {
            tokens += v;
        }
        NDArray loss = perTokenLoss.mul(lossMask).sum().div((float) Math.max(1.0, tokens)); // ()

        PolicyLossStats stats =
                PolicyStats.of(
                        loss.getFloat(),
                        ratio.toFloatArray(),
                        kl == null ? null : kl.toFloatArray(),
                        null,
                        null,
                        advantages.toFloatArray(),
                        mask,
                        epsilonLow,
                        epsilonHigh,
                        0,
                        (int) logps.getShape().get(1));
        return new PolicyLoss(loss, stats);
    }
}
