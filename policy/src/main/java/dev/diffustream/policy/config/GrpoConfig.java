package dev.diffustream.policy.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * Coupled-GRPO hyperparameters (recipe section {@code grpo}). Defaults are the DiffuCoder release
 * values (spec A.12, A.13); where the paper and the release differ the option is named and the
 * release value is the default (spec A.15).
 */
public record GrpoConfig(
        @JsonPropertyDescription("G: completions sampled per prompt (release 10).")
                int numGenerations,
        @JsonPropertyDescription(
                        "I (the paper's mu): optimizer steps per batch of groups, and mask seeds"
                                + " per completion (release 2).")
                int numIterations,
        @JsonPropertyDescription(
                        "Per-token log-prob estimator: coupled (Coupled-GRPO), d1 or decoupled.")
                EstimatorKind estimator,
        @JsonPropertyDescription("Lower bound of the mask ratio t ~ U(min, max) (release 0.2).")
                double maskRatioMin,
        @JsonPropertyDescription("Upper bound of the mask ratio t ~ U(min, max) (release 0.8).")
                double maskRatioMax,
        @JsonPropertyDescription(
                        "Draw fresh random mask seeds per completion; false = fixed seed 42 for"
                                + " every iteration (spec A.3).")
                boolean randomMasking,
        @JsonPropertyDescription(
                        "Which mask seed an iteration uses: release (spec A.10 quirk) or"
                                + " fresh_per_iteration (the paper).")
                MaskSeedCoupling maskSeedCoupling,
        @JsonPropertyDescription(
                        "d1 estimator only: probability of masking each prompt token (d1 recipe"
                                + " 0.15).")
                double pMaskPrompt,
        @JsonPropertyDescription("Clip range below 1 of the ratio: 1 - epsilonLow (release 0.5).")
                double epsilonLow,
        @JsonPropertyDescription("Clip range above 1 of the ratio: 1 + epsilonHigh (release 0.5).")
                double epsilonHigh,
        @JsonPropertyDescription(
                        "beta: weight of the k3 KL to the reference policy (release 0.01).")
                double beta,
        @JsonPropertyDescription(
                        "Policy objective: coupled_grpo (spec A.9) or decoupled_ppo (AReaL, with"
                                + " behaviour importance weights).")
                PolicyLossKind loss,
        @JsonPropertyDescription(
                        "decoupled_ppo only: cap on the importance weight proximal/behaviour"
                                + " (AReaL behav_imp_weight_cap); must be > 1.")
                double importanceWeightCap,
        @JsonPropertyDescription(
                        "decoupled_ppo only: filter (drop tokens above the cap, AReaL) or"
                                + " truncate (min(weight, cap)).")
                ImportanceCapMode importanceCapMode,
        @JsonPropertyDescription("Peak AdamW learning rate (release 1e-6).") double learningRate,
        @JsonPropertyDescription("AdamW beta1 (release 0.9).") double adamBeta1,
        @JsonPropertyDescription("AdamW beta2 (release 0.99).") double adamBeta2,
        @JsonPropertyDescription("AdamW epsilon (HF default 1e-8).") double adamEpsilon,
        @JsonPropertyDescription("AdamW decoupled weight decay (release 0.1).") double weightDecay,
        @JsonPropertyDescription("Global gradient-norm clip; 0 = off (release 0.2).")
                double maxGradNorm,
        @JsonPropertyDescription(
                        "LR schedule: cosine_with_min_lr (release), constant_with_warmup or"
                                + " constant.")
                LrScheduleKind lrSchedule,
        @JsonPropertyDescription(
                        "Warmup steps as a fraction of scheduleSteps, rounded up (release 1e-4).")
                double warmupRatio,
        @JsonPropertyDescription(
                        "cosine_with_min_lr floor as a fraction of the peak LR (release 0.1).")
                double minLrRate,
        @JsonPropertyDescription(
                        "Optimizer steps the LR schedule spans (HF num_training_steps); ~5200 for"
                                + " the release's one epoch.")
                int scheduleSteps,
        @JsonPropertyDescription("Soft-sync the reference model to the policy (release true).")
                boolean syncRefModel,
        @JsonPropertyDescription("Optimizer steps between reference syncs (release 64).")
                int refModelSyncSteps,
        @JsonPropertyDescription(
                        "alpha of the sync ref <- alpha*policy + (1-alpha)*ref (TRL default 0.6).")
                double refModelMixupAlpha,
        @JsonPropertyDescription(
                        "Prompt tokens kept (left truncation after left padding; release 200).")
                int maxPromptLength,
        @JsonPropertyDescription("K: completion tokens sampled and scored (release 256).")
                int maxCompletionLength) {

    public GrpoConfig {
        requirePositive("grpo.numGenerations", numGenerations);
        requirePositive("grpo.numIterations", numIterations);
        if (estimator == null) {
            throw new IllegalArgumentException("grpo.estimator must be set");
        }
        if (!(maskRatioMin > 0 && maskRatioMin <= maskRatioMax && maskRatioMax < 1)) {
            throw new IllegalArgumentException(
                    "grpo.maskRatioMin/maskRatioMax must satisfy 0 < min <= max < 1, got "
                            + maskRatioMin
                            + " and "
                            + maskRatioMax);
        }
        if (maskSeedCoupling == null) {
            throw new IllegalArgumentException("grpo.maskSeedCoupling must be set");
        }
        if (!(pMaskPrompt >= 0 && pMaskPrompt < 1)) {
            throw new IllegalArgumentException(
                    "grpo.pMaskPrompt must be in [0, 1), got " + pMaskPrompt);
        }
        if (!(epsilonLow >= 0 && epsilonLow < 1)) {
            throw new IllegalArgumentException(
                    "grpo.epsilonLow must be in [0, 1), got " + epsilonLow);
        }
        if (!(epsilonHigh >= 0) || Double.isInfinite(epsilonHigh)) {
            throw new IllegalArgumentException(
                    "grpo.epsilonHigh must be finite and >= 0, got " + epsilonHigh);
        }
        if (!(beta >= 0) || Double.isInfinite(beta)) {
            throw new IllegalArgumentException("grpo.beta must be finite and >= 0, got " + beta);
        }
        if (loss == null || importanceCapMode == null || lrSchedule == null) {
            throw new IllegalArgumentException(
                    "grpo.loss, grpo.importanceCapMode and grpo.lrSchedule must be set");
        }
        if (!(importanceWeightCap > 1)) {
            throw new IllegalArgumentException(
                    "grpo.importanceWeightCap must be > 1, got " + importanceWeightCap);
        }
        if (!(learningRate > 0)) {
            throw new IllegalArgumentException(
                    "grpo.learningRate must be > 0, got " + learningRate);
        }
        if (!(adamBeta1 >= 0 && adamBeta1 < 1) || !(adamBeta2 >= 0 && adamBeta2 < 1)) {
            throw new IllegalArgumentException(
                    "grpo.adamBeta1/adamBeta2 must be in [0, 1), got "
                            + adamBeta1
                            + " and "
                            + adamBeta2);
        }
        if (!(adamEpsilon > 0)) {
            throw new IllegalArgumentException("grpo.adamEpsilon must be > 0, got " + adamEpsilon);
        }
        if (!(weightDecay >= 0)) {
            throw new IllegalArgumentException("grpo.weightDecay must be >= 0, got " + weightDecay);
        }
        if (!(maxGradNorm >= 0)) {
            throw new IllegalArgumentException(
                    "grpo.maxGradNorm must be >= 0 (0 = off), got " + maxGradNorm);
        }
        if (!(warmupRatio >= 0 && warmupRatio <= 1)) {
            throw new IllegalArgumentException(
                    "grpo.warmupRatio must be in [0, 1], got " + warmupRatio);
        }
        if (!(minLrRate >= 0 && minLrRate <= 1)) {
            throw new IllegalArgumentException(
                    "grpo.minLrRate must be in [0, 1], got " + minLrRate);
        }
        requirePositive("grpo.scheduleSteps", scheduleSteps);
        requirePositive("grpo.refModelSyncSteps", refModelSyncSteps);
        if (!(refModelMixupAlpha >= 0 && refModelMixupAlpha <= 1)) {
            throw new IllegalArgumentException(
                    "grpo.refModelMixupAlpha must be in [0, 1], got " + refModelMixupAlpha);
        }
        requirePositive("grpo.maxPromptLength", maxPromptLength);
        requirePositive("grpo.maxCompletionLength", maxCompletionLength);
    }

    /** The DiffuCoder release values (spec A.13). */
    public static GrpoConfig defaults() {
        return new GrpoConfig(
                10,
                2,
                EstimatorKind.COUPLED,
                0.2,
                0.8,
                true,
                MaskSeedCoupling.RELEASE,
                0.15,
                0.5,
                0.5,
                0.01,
                PolicyLossKind.COUPLED_GRPO,
                5.0,
                ImportanceCapMode.FILTER,
                1e-6,
                0.9,
                0.99,
                1e-8,
                0.1,
                0.2,
                LrScheduleKind.COSINE_WITH_MIN_LR,
                1e-4,
                0.1,
                5200,
                true,
                64,
                0.6,
                200,
                256);
    }

    /** The fixed seed the release uses for every iteration when {@link #randomMasking} is off. */
    public static final long FIXED_MASK_SEED = 42L;

    private static void requirePositive(String key, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(key + " must be >= 1, got " + value);
        }
    }
}
