package dev.diffustream.policy.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * Supervised masked-diffusion pretraining of the tiny policy on the built-in suite's train split
 * (recipe section {@code pretrain}). The model's size lives in {@code model} ({@code ModelConfig}).
 * Defaults are the recipe {@code recipes/pretrain-tiny.yaml}: about ten minutes on 2 CPU cores for
 * the default tiny model.
 */
public record PretrainConfig(
        @JsonPropertyDescription("Seed of data order, mask draws and evaluation sampling.")
                long seed,
        @JsonPropertyDescription("Optimizer steps (the CLI's --steps overrides it).") int steps,
        @JsonPropertyDescription("Sequences per optimizer step.") int batchSize,
        @JsonPropertyDescription("Peak AdamW learning rate.") double learningRate,
        @JsonPropertyDescription("LR schedule: cosine_with_min_lr, constant_with_warmup, constant.")
                LrScheduleKind lrSchedule,
        @JsonPropertyDescription("Warmup steps as a fraction of steps (rounded up).")
                double warmupRatio,
        @JsonPropertyDescription("cosine_with_min_lr floor as a fraction of the peak LR.")
                double minLrRate,
        @JsonPropertyDescription("AdamW beta1.") double adamBeta1,
        @JsonPropertyDescription("AdamW beta2.") double adamBeta2,
        @JsonPropertyDescription("AdamW epsilon.") double adamEpsilon,
        @JsonPropertyDescription("AdamW decoupled weight decay (not on biases and norms).")
                double weightDecay,
        @JsonPropertyDescription("Global gradient-norm clip; 0 = off.") double maxGradNorm,
        @JsonPropertyDescription("Lower bound eps of the mask ratio t ~ U(eps, 1).") double maskEps,
        @JsonPropertyDescription(
                        "Share of each batch's rows trained as joint masked diffusion over the whole"
                                + " chat text (prompt tokens masked too); 0 = pure SFT.")
                double jointFraction,
        @JsonPropertyDescription("Prompt tokens kept (left truncation), as grpo.maxPromptLength.")
                int maxPromptLength,
        @JsonPropertyDescription(
                        "K: completion tokens; the target block + <|im_end|> is padded to K"
                                + " (tasks that do not fit are skipped).")
                int completionLength,
        @JsonPropertyDescription("System message of the chat prompt (spec A.1).")
                String systemPrompt,
        @JsonPropertyDescription(
                        "Save resumable state every this many steps (0 = only at the end).")
                int checkpointEvery,
        @JsonPropertyDescription("Report progress every this many steps.") int logEvery,
        @JsonPropertyDescription("Held-out prompts sampled by the final evaluation (0 = none).")
                int evalTasks,
        @JsonPropertyDescription("Rows per sampler call during evaluation.") int evalBatchSize,
        @JsonPropertyDescription(
                        "Sampler settings of the evaluation (maxNewTokens must equal"
                                + " completionLength).")
                SamplerConfig evalSampler) {

    public PretrainConfig {
        positive("pretrain.steps", steps);
        positive("pretrain.batchSize", batchSize);
        if (!(learningRate > 0)) {
            throw new IllegalArgumentException(
                    "pretrain.learningRate must be > 0, got " + learningRate);
        }
        if (lrSchedule == null) {
            throw new IllegalArgumentException("pretrain.lrSchedule must be set");
        }
        if (!(warmupRatio >= 0 && warmupRatio <= 1) || !(minLrRate >= 0 && minLrRate <= 1)) {
            throw new IllegalArgumentException(
                    "pretrain.warmupRatio and pretrain.minLrRate must be in [0, 1], got "
                            + warmupRatio
                            + " and "
                            + minLrRate);
        }
        if (!(adamBeta1 >= 0 && adamBeta1 < 1) || !(adamBeta2 >= 0 && adamBeta2 < 1)) {
            throw new IllegalArgumentException(
                    "pretrain.adamBeta1/adamBeta2 must be in [0, 1), got "
                            + adamBeta1
                            + " and "
                            + adamBeta2);
        }
        if (!(adamEpsilon > 0) || !(weightDecay >= 0) || !(maxGradNorm >= 0)) {
            throw new IllegalArgumentException(
                    "pretrain.adamEpsilon must be > 0, weightDecay and maxGradNorm >= 0, got "
                            + adamEpsilon
                            + ", "
                            + weightDecay
                            + ", "
                            + maxGradNorm);
        }
        if (!(maskEps > 0 && maskEps < 1)) {
            throw new IllegalArgumentException(
                    "pretrain.maskEps must be in (0, 1), got " + maskEps);
        }
        if (!(jointFraction >= 0 && jointFraction < 1)) {
            throw new IllegalArgumentException(
                    "pretrain.jointFraction must be in [0, 1), got " + jointFraction);
        }
        positive("pretrain.maxPromptLength", maxPromptLength);
        positive("pretrain.completionLength", completionLength);
        if (systemPrompt == null) {
            systemPrompt = "";
        }
        if (checkpointEvery < 0) {
            throw new IllegalArgumentException(
                    "pretrain.checkpointEvery must be >= 0, got " + checkpointEvery);
        }
        positive("pretrain.logEvery", logEvery);
        if (evalTasks < 0) {
            throw new IllegalArgumentException("pretrain.evalTasks must be >= 0, got " + evalTasks);
        }
        positive("pretrain.evalBatchSize", evalBatchSize);
        if (evalSampler == null) {
            throw new IllegalArgumentException("pretrain.evalSampler must be set");
        }
        if (evalSampler.maxNewTokens() != completionLength) {
            throw new IllegalArgumentException(
                    "pretrain.evalSampler.maxNewTokens ("
                            + evalSampler.maxNewTokens()
                            + ") must equal pretrain.completionLength ("
                            + completionLength
                            + ")");
        }
    }

    /** The defaults of {@code recipes/pretrain-tiny.yaml}. */
    public static PretrainConfig defaults() {
        return new PretrainConfig(
                1234L,
                600,
                16,
                2e-3,
                LrScheduleKind.COSINE_WITH_MIN_LR,
                0.05,
                0.1,
                0.9,
                0.99,
                1e-8,
                0.01,
                1.0,
                1e-3,
                0.0,
                200,
                64,
                "You are a helpful assistant.",
                100,
                10,
                64,
                16,
                new SamplerConfig(RemaskingAlgorithm.ENTROPY, 0.2, 0.95, 0, 0.0, 64, 64, 1e-3));
    }

    /** A copy with another step budget (the CLI's {@code --steps}). */
    public PretrainConfig withSteps(int newSteps) {
        return new PretrainConfig(
                seed,
                newSteps,
                batchSize,
                learningRate,
                lrSchedule,
                warmupRatio,
                minLrRate,
                adamBeta1,
                adamBeta2,
                adamEpsilon,
                weightDecay,
                maxGradNorm,
                maskEps,
                jointFraction,
                maxPromptLength,
                completionLength,
                systemPrompt,
                checkpointEvery,
                logEvery,
                evalTasks,
                evalBatchSize,
                evalSampler);
    }

    /** A copy with other evaluation settings. */
    public PretrainConfig withEval(int tasks, int batch, SamplerConfig sampler) {
        return new PretrainConfig(
                seed,
                steps,
                batchSize,
                learningRate,
                lrSchedule,
                warmupRatio,
                minLrRate,
                adamBeta1,
                adamBeta2,
                adamEpsilon,
                weightDecay,
                maxGradNorm,
                maskEps,
                jointFraction,
                maxPromptLength,
                completionLength,
                systemPrompt,
                checkpointEvery,
                logEvery,
                tasks,
                batch,
                sampler);
    }

    private static void positive(String key, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(key + " must be >= 1, got " + value);
        }
    }
}
