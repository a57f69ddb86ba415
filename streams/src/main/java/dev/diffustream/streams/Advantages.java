package dev.diffustream.streams;

import dev.diffustream.streams.AdvantageConfig.Baseline;

/**
 * Group-normalised advantages from the rewards of one GRPO group (spec A.8, MDC L502-567), over the
 * n members present (n may be below G after a deadline or sandbox errors).
 *
 * <pre>
 *   mean:           A_i = r_i − (1/n) Σ_j r_j
 *   leave-one-out:  A_i = r_i − (Σ_j r_j − r_i)/(n−1)   = n/(n−1) · (r_i − mean)
 *   scaled:         A_i ← A_i / (std_unbiased(r) + 1e-4)
 *   zero variance:  std_unbiased(r) < 1e-6  ⇒  A_i = 0 (the release's `zero_std_ratio` groups)
 * </pre>
 *
 * Computed in double precision (the release uses fp32 tensors; the difference is below 1e-6 for
 * rewards in [0, 2.5]).
 */
public final class Advantages {
    private Advantages() {}

    /** Added to the std before scaling (spec A.8 step 3). */
    public static final double STD_EPSILON = 1e-4;

    /** Below this std a group counts as zero-variance (spec A.8 step 4). */
    public static final double ZERO_STD_THRESHOLD = 1e-6;

    /**
     * Statistics and advantages of one group.
     *
     * @param mean mean reward
     * @param std unbiased standard deviation (divisor n−1)
     * @param zeroVariance whether {@code std < 1e-6}
     * @param advantages one per reward, same order
     */
    public record Result(double mean, double std, boolean zeroVariance, double[] advantages) {}

    /**
     * Computes the advantages of a group.
     *
     * @param rewards the members' total rewards; at least 2
     * @throws IllegalArgumentException if fewer than 2 rewards or a reward is not finite
     */
    public static Result compute(double[] rewards, Baseline baseline, boolean scale) {
        int n = rewards.length;
        if (n < 2) {
            throw new IllegalArgumentException(
                    "advantages need at least 2 rewards (a baseline needs another member), got "
                            + n);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            if (!Double.isFinite(rewards[i])) {
                throw new IllegalArgumentException(
                        "reward " + i + " of the group is not finite: " + rewards[i]);
            }
            sum += rewards[i];
        }
        double mean = sum / n;
        double squares = 0;
        for (double r : rewards) {
            squares += (r - mean) * (r - mean);
        }
        double std = Math.sqrt(squares / (n - 1));
        boolean zeroVariance = std < ZERO_STD_THRESHOLD;
        double[] advantages = new double[n];
        if (!zeroVariance) {
            for (int i = 0; i < n; i++) {
                double a =
                        switch (baseline) {
                            case MEAN -> rewards[i] - mean;
                            case LEAVE_ONE_OUT -> rewards[i] - (sum - rewards[i]) / (n - 1);
                        };
                advantages[i] = scale ? a / (std + STD_EPSILON) : a;
            }
        }
        return new Result(mean, std, zeroVariance, advantages);
    }
}
