package dev.diffustream.learner.eval;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.diffustream.policy.tasks.TaskSplit;

/** Held-out evaluation (recipe section {@code eval}). */
public record EvalConfig(
        @JsonPropertyDescription("Task suite to evaluate on (same syntax as feeder.suite).")
                String suite,
        @JsonPropertyDescription("Split: heldout (built-in suite), test (HumanEval/MBPP) or train.")
                String split,
        @JsonPropertyDescription("Evaluate on the first N tasks of the split (0 = all).") int tasks,
        @JsonPropertyDescription("Samples per task (n of pass@k; k = 1..n are reported).")
                int samples,
        @JsonPropertyDescription(
                        "Sampling temperature for evaluation (0 = greedy; pass@k with k > 1 needs"
                                + " > 0).")
                double temperature,
        @JsonPropertyDescription("Rows sampled together in one diffusion batch.") int batchRows,
        @JsonPropertyDescription("Seed of the evaluation's sampling RNG.") long seed,
        @JsonPropertyDescription(
                        "Local mode: evaluate every this many policy versions (0 = only the first"
                                + " and the last).")
                int everyVersions,
        @JsonPropertyDescription(
                        "PyTorch intra-op threads of the evaluations that run alone: the eval"
                                + " command and local mode's baseline and final evaluation (the"
                                + " pipeline is stopped then); 0 = policy.device.threads. The"
                                + " periodic evaluation during a local run shares the machine"
                                + " and keeps policy.device.threads.")
                int threads) {

    public EvalConfig {
        if (suite == null || suite.isBlank()) {
            throw new IllegalArgumentException("eval.suite must not be empty");
        }
        TaskSplit.parse("eval.split", split);
        if (tasks < 0) {
            throw new IllegalArgumentException("eval.tasks must be >= 0, got " + tasks);
        }
        if (samples < 1) {
            throw new IllegalArgumentException("eval.samples must be >= 1, got " + samples);
        }
        if (!(temperature >= 0)) {
            throw new IllegalArgumentException("eval.temperature must be >= 0, got " + temperature);
        }
        if (batchRows < 1) {
            throw new IllegalArgumentException("eval.batchRows must be >= 1, got " + batchRows);
        }
        if (threads < 0) {
            throw new IllegalArgumentException("eval.threads must be >= 0, got " + threads);
        }
        if (everyVersions < 0) {
            throw new IllegalArgumentException(
                    "eval.everyVersions must be >= 0, got " + everyVersions);
        }
    }

    public static EvalConfig defaults() {
        return new EvalConfig("builtin", "heldout", 0, 1, 0.0, 64, 7L, 10, 0);
    }

    /** A copy with other task/sample counts. */
    public EvalConfig with(int newTasks, int newSamples, double newTemperature) {
        return new EvalConfig(
                suite,
                split,
                newTasks,
                newSamples,
                newTemperature,
                batchRows,
                seed,
                everyVersions,
                threads);
    }
}
