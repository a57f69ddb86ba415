package dev.diffustream.policy.pretrain;

/**
 * One progress report of a pretraining run.
 *
 * @param step optimizer steps done (1-based count)
 * @param totalSteps the run's step budget
 * @param loss mean training loss over the steps since the last report
 * @param learningRate the rate of the last step
 * @param gradNorm global gradient norm of the last step, before clipping
 * @param stepsPerSecond steps per second in this invocation
 * @param etaSeconds estimated seconds to the last step
 */
public record PretrainProgress(
        int step,
        int totalSteps,
        double loss,
        double learningRate,
        double gradNorm,
        double stepsPerSecond,
        double etaSeconds) {}
