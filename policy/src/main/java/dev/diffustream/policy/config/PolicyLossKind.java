package dev.diffustream.policy.config;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Which policy-gradient objective the learner minimises. */
public enum PolicyLossKind {
    /** The clipped GRPO surrogate against the old policy plus β·k3 KL (spec A.9). */
    @JsonProperty("coupled_grpo")
    COUPLED_GRPO,
    /**
     * AReaL's decoupled PPO objective for asynchronous RL: clip against a proximal policy, weight
     * each token by the capped importance weight proximal/behaviour.
     */
    @JsonProperty("decoupled_ppo")
    DECOUPLED_PPO
}
