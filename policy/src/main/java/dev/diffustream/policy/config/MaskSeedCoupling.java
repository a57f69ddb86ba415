package dev.diffustream.policy.config;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Which of a completion's I mask seeds a GRPO iteration uses (spec A.10, A.15.3).
 *
 * <p>[DIVERGENCE] The release reads {@code j = _step mod I} after incrementing {@code _step}, so
 * with GA = I = 2 micro-batch 0 always uses seed 1 and micro-batch 1 always uses seed 0: both PPO
 * iterations of a round reuse one mask draw. The paper's Algorithm 1 draws a fresh pair per
 * iteration.
 */
public enum MaskSeedCoupling {
    /** The release's bookkeeping: {@code j = (iteration·GA + microBatch + 1) mod I}. */
    @JsonProperty("release")
    RELEASE,
    /** The paper's Algorithm 1: iteration i uses seed i. */
    @JsonProperty("fresh_per_iteration")
    FRESH_PER_ITERATION;

    /**
     * The index into a completion's mask seeds.
     *
     * @param iteration GRPO iteration inside the round, 0..I-1
     * @param microBatch micro-batch inside the optimizer step, 0..GA-1
     * @param microBatchesPerStep GA (gradient accumulation steps), ≥ 1
     * @param numIterations I, ≥ 1
     */
    public int seedIndex(
            int iteration, int microBatch, int microBatchesPerStep, int numIterations) {
        if (numIterations < 1 || microBatchesPerStep < 1) {
            throw new IllegalArgumentException(
                    "numIterations and microBatchesPerStep must be >= 1, got "
                            + numIterations
                            + " and "
                            + microBatchesPerStep);
        }
        if (iteration < 0 || iteration >= numIterations) {
            throw new IllegalArgumentException(
                    "iteration must be in [0, " + numIterations + "), got " + iteration);
        }
        if (microBatch < 0 || microBatch >= microBatchesPerStep) {
            throw new IllegalArgumentException(
                    "microBatch must be in [0, " + microBatchesPerStep + "), got " + microBatch);
        }
        return switch (this) {
            case RELEASE -> (iteration * microBatchesPerStep + microBatch + 1) % numIterations;
            case FRESH_PER_ITERATION -> iteration;
        };
    }
}
