package dev.diffustream.policy.config;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * What the decoupled PPO loss does with a token whose behaviour importance weight exceeds the cap.
 */
public enum ImportanceCapMode {
    /** Drop the token from the policy term (weight 0), as AReaL's {@code behav_imp_weight_cap}. */
    @JsonProperty("filter")
    FILTER,
    /** Use min(weight, cap) (truncated importance sampling, as IMPALA / verl TIS). */
    @JsonProperty("truncate")
    TRUNCATE
}
