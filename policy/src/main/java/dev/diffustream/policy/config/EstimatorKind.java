package dev.diffustream.policy.config;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Which per-token log-prob estimator scores completions (spec A.6, G.1, F Table 2). */
public enum EstimatorKind {
    /** Full-mask pass plus a complementary pair (t, 1 − t): Coupled-GRPO (spec A.4–A.6). */
    @JsonProperty("coupled")
    COUPLED,
    /** d1's one-pass estimate: completion fully masked, prompt randomly masked (spec G.1). */
    @JsonProperty("d1")
    D1,
    /** Same passes as coupled but two independent random masks (spec F, "decoupled sampling"). */
    @JsonProperty("decoupled")
    DECOUPLED
}
