package dev.diffustream.policy.pretrain;

import java.nio.file.Path;

/**
 * What a pretraining invocation did.
 *
 * @param stepsDone steps completed in total (including resumed ones)
 * @param totalSteps the step budget
 * @param resumedFromStep the step this invocation started from (0 for a fresh run)
 * @param finished whether the budget is reached (false when stopped early by {@code stopAfter})
 * @param trainSeconds wall-clock seconds of training in this invocation
 * @param lastLoss mean training loss over the last reported window
 * @param validationLossBefore masked-diffusion loss on a fixed held-out batch at the start of this
 *     invocation
 * @param validationLossAfter the same at the end
 * @param examples training examples used
 * @param skippedTasks train tasks skipped (no reference or too long for K)
 * @param checkpointDir the final HF-layout checkpoint (null until finished)
 * @param sha256 its weights digest (null until finished)
 * @param evaluation held-out sampling quality (null when not run)
 * @param trainEvaluation the same on as many train prompts (null when not run): how much of what RL
 *     will train on is already solved
 */
public record PretrainResult(
        int stepsDone,
        int totalSteps,
        int resumedFromStep,
        boolean finished,
        double trainSeconds,
        double lastLoss,
        double validationLossBefore,
        double validationLossAfter,
        int examples,
        int skippedTasks,
        Path checkpointDir,
        String sha256,
        HeldOutEvaluation evaluation,
        HeldOutEvaluation trainEvaluation) {}
