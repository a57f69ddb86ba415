package dev.diffustream.policy.loss;

/**
 * Detached statistics of one policy-loss evaluation, for metrics and the {@code TrainStep} event.
 * Every mean is over loss tokens (completion mask = 1).
 *
 * @param loss the total loss value
 * @param policyLoss the clipped-surrogate part: mean of −min(ρ·A, clip(ρ)·A) (times the importance
 *     weight for the decoupled loss)
 * @param kl mean k3 KL to the reference (0 when no reference was given)
 * @param clipRatioLow share of tokens with ρ &lt; 1 − ε_low and A &lt; 0 (TRL {@code
 *     clip_ratio/low_mean})
 * @param clipRatioHigh share of tokens with ρ &gt; 1 + ε_high and A &gt; 0 (TRL {@code
 *     clip_ratio/high_mean})
 * @param clipRatioRegion share of tokens in either (TRL {@code clip_ratio/region_mean})
 * @param importanceWeightMean mean behaviour importance weight before capping (1 for the coupled
 *     loss)
 * @param cappedFraction share of tokens whose importance weight exceeded the cap (0 for the coupled
 *     loss)
 * @param tokens number of loss tokens
 */
public record PolicyLossStats(
        double loss,
        double policyLoss,
        double kl,
        double clipRatioLow,
        double clipRatioHigh,
        double clipRatioRegion,
        double importanceWeightMean,
        double cappedFraction,
        long tokens) {}
