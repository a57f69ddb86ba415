package dev.diffustream.policy.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.diffustream.policy.config.GrpoConfig;
import dev.diffustream.policy.config.ImportanceCapMode;
import dev.diffustream.policy.model.TorchMemory;
import java.util.Objects;

/**
 * AReaL's decoupled PPO objective for asynchronous RL (Fu et al. 2025, "AReaL", Eq. 5; {@code
 * ppo_actor_loss_fn} with {@code use_decoupled_loss}), on coupled estimates (spec A.6).
 *
 * <p>Three policies: the <b>behaviour</b> policy π_behav that sampled the completions (possibly
 * several versions old; its estimates travel in the completion events), the <b>proximal</b> policy
 * π_prox (the learner's weights when the batch was formed, recomputed with no gradient) that the
 * trust region is measured against, and the current policy π_θ. Per token:
 *
 * <pre>
 *   logRatio     = ℓ_θ − ℓ_prox                                     (B, K)
 *   ratio        = exp(logRatio)
 *   clippedRatio = clip(ratio, 1 − ε_low, 1 + ε_high)
 *   w            = exp(ℓ_prox − ℓ_behav)                            (data, no gradient)
 *   w'           = cap(w)    FILTER: w if w ≤ cap else 0 (AReaL's behav_imp_weight_cap)
 *                            TRUNCATE: min(w, cap)
 *   kl           = exp(ℓ_ref − ℓ_θ) − (ℓ_ref − ℓ_θ) − 1             (k3, optional)
 *   perTokenLoss = −w'·min(ratio·A, clippedRatio·A) + β·kl
 *   loss         = Σ perTokenLoss·m / max(1, Σ m)
 * </pre>
 *
 * The KL term is not importance-weighted (it regularises the current policy on the tokens at hand,
 * as in {@link CoupledGrpoLoss}); with ℓ_prox = ℓ_behav and β = 0 this is exactly {@link
 * CoupledGrpoLoss} with ℓ_old = ℓ_prox. Filtered tokens still count in the denominator, as in
 * AReaL.
 */
public final class DecoupledPpoLoss {

    private final double epsilonLow;
    private final double epsilonHigh;
    private final double beta;
    private final double cap;
    private final ImportanceCapMode capMode;

    /**
     * @param cap importance-weight cap, &gt; 1
     * @param capMode what happens above the cap
     */
    public DecoupledPpoLoss(
            double epsilonLow,
            double epsilonHigh,
            double beta,
            double cap,
            ImportanceCapMode capMode) {
        if (!(epsilonLow >= 0 && epsilonLow < 1) || !(epsilonHigh >= 0) || !(beta >= 0)) {
            throw new IllegalArgumentException(
                    "need 0 <= epsilonLow < 1, epsilonHigh >= 0, beta >= 0, got "
                            + epsilonLow
                            + ", "
                            + epsilonHigh
                            + ", "
                            + beta);
        }
        if (!(cap > 1)) {
            throw new IllegalArgumentException("importance weight cap must be > 1, got " + cap);
        }
        this.epsilonLow = epsilonLow;
        this.epsilonHigh = epsilonHigh;
        this.beta = beta;
        this.cap = cap;
        this.capMode = Objects.requireNonNull(capMode, "capMode");
    }

    /** ε_low, ε_high, β, cap and cap mode of a GRPO config. */
    public static DecoupledPpoLoss fromConfig(GrpoConfig config) {
        return new DecoupledPpoLoss(
                config.epsilonLow(),
                config.epsilonHigh(),
                config.beta(),
                config.importanceWeightCap(),
                config.importanceCapMode());
    }

    /**
     * @param logps ℓ_θ (B, K), with gradient
     * @param proximalLogps ℓ_prox (B, K), no gradient
     * @param behaviourLogps ℓ_behav (B, K), from the completion events
     * @param refLogps ℓ_ref (B, K); may be null only when β = 0
     * @param advantages A (B)
     * @param lossMask m (B, K)
     */
    public PolicyLoss compute(
            NDArray logps,
            NDArray proximalLogps,
            NDArray behaviourLogps,
            NDArray refLogps,
            NDArray advantages,
            NDArray lossMask) {
        Objects.requireNonNull(logps, "logps");
        Objects.requireNonNull(proximalLogps, "proximalLogps");
        Objects.requireNonNull(behaviourLogps, "behaviourLogps");
        Objects.requireNonNull(advantages, "advantages");
        Objects.requireNonNull(lossMask, "lossMask");
        LossInputs.requireAdvantages(advantages, logps.getShape());
        LossInputs.requireSameShape("proximalLogps", proximalLogps, logps.getShape());
        LossInputs.requireSameShape("behaviourLogps", behaviourLogps, logps.getShape());
        LossInputs.requireSameShape("refLogps", refLogps, logps.getShape());
        LossInputs.requireSameShape("lossMask", lossMask, logps.getShape());
        if (beta > 0 && refLogps == null) {
            throw new IllegalArgumentException("refLogps is required when beta = " + beta + " > 0");
        }
        long rows = logps.getShape().get(0);
        int k = (int) logps.getShape().get(1);
        float[] mask = lossMask.toFloatArray();
        float[] prox = proximalLogps.toFloatArray();
        float[] behav = behaviourLogps.toFloatArray();
        float[] raw = new float[prox.length];
        float[] applied = new float[prox.length];
        long capped = 0;
        double tokens = 0;
        for (int i = 0; i < raw.length; i++) {
            double w = Math.exp((double) prox[i] - behav[i]);
            raw[i] = (float) w;
            boolean over = w > cap;
            applied[i] = (float) (!over ? w : capMode == ImportanceCapMode.TRUNCATE ? cap : 0.0);
            capped += over && mask[i] != 0 ? 1 : 0;
            tokens += mask[i];
        }
        NDManager manager = logps.getManager();
        NDArray weight = TorchMemory.upload(manager, applied, logps.getShape()); // (B, K)
        NDArray a = advantages.reshape(rows, 1); // (B, 1)

        NDArray logRatio = logps.sub(proximalLogps.stopGradient()); // (B, K)
        NDArray ratio = logRatio.exp(); // (B, K)
        NDArray clippedRatio = ratio.clip(1 - epsilonLow, 1 + epsilonHigh); // (B, K)
        NDArray perTokenLoss =
                ratio.mul(a).minimum(clippedRatio.mul(a)).mul(weight).neg(); // (B, K)
        NDArray kl = null;
        if (refLogps != null) {
            NDArray refDiff = refLogps.sub(logps); // (B, K)
            kl = refDiff.exp().sub(refDiff).sub(1f); // (B, K)
            if (beta > 0) {
                perTokenLoss = perTokenLoss.add(kl.mul((float) beta)); // (B, K)
            }
        }
        NDArray loss = perTokenLoss.mul(lossMask).sum().div((float) Math.max(1.0, tokens)); // ()
        PolicyLossStats stats =
                PolicyStats.of(
                        loss.getFloat(),
                        ratio.toFloatArray(),
                        kl == null ? null : kl.toFloatArray(),
                        applied,
                        raw,
                        advantages.toFloatArray(),
                        mask,
                        epsilonLow,
                        epsilonHigh,
                        capped,
                        k);
        return new PolicyLoss(loss, stats);
    }
}
