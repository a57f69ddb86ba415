package dev.diffustream.schemas.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * Weights of the reward functions (spec B.2 step 7, recipe section {@code rewards}): total = code ·
 * codeReward + format · formatReward; the release uses 2.0 and 0.5, giving a range of [0, 2.5].
 */
public record RewardWeights(
        @JsonPropertyDescription("Weight of the code (pass-rate) reward.") double code,
        @JsonPropertyDescription("Weight of the format reward.") double format) {

    public RewardWeights {
        if (!Double.isFinite(code) || !Double.isFinite(format)) {
            throw new IllegalArgumentException(
                    "rewards.code and rewards.format must be finite, got " + code + ", " + format);
        }
    }

    public static RewardWeights defaults() {
        return new RewardWeights(2.0, 0.5);
    }

    /** The weighted total. */
    public double total(double codeReward, double formatReward) {
        return code * codeReward + format * formatReward;
    }
}
