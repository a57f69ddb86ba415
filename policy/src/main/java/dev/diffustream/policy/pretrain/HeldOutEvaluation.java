package dev.diffustream.policy.pretrain;

import java.util.List;

/**
 * Sampling quality on a set of prompts (held-out, or train for comparison): one completion per
 * prompt with the evaluation sampler.
 *
 * @param tasks prompts sampled
 * @param formatValid completions whose decoded text passes the shape check of spec B.1
 * @param exactMatch format-valid completions whose python block is the reference solution
 * @param formatValidRate formatValid / tasks
 * @param exactMatchRate exactMatch / tasks
 * @param temperature the sampling temperature used
 * @param seconds wall-clock time of the evaluation
 * @param examples a few decoded completions, for eyeballing
 */
public record HeldOutEvaluation(
        int tasks,
        int formatValid,
        int exactMatch,
        double formatValidRate,
        double exactMatchRate,
        double temperature,
        double seconds,
        List<String> examples) {}
