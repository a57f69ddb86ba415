package dev.diffustream.policy.config;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Learning-rate schedules, named as in Hugging Face {@code SchedulerType}. */
public enum LrScheduleKind {
    /** Linear warmup, then half a cosine down to {@code minLrRate · lr} (spec A.12). */
    @JsonProperty("cosine_with_min_lr")
    COSINE_WITH_MIN_LR,
    /** Linear warmup, then constant (d1's schedule). */
    @JsonProperty("constant_with_warmup")
    CONSTANT_WITH_WARMUP,
    /** Constant learning rate, no warmup. */
    @JsonProperty("constant")
    CONSTANT
}
