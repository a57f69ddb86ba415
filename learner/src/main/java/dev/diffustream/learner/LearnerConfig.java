package dev.diffustream.learner;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * The learner (recipe section {@code learner}). The optimisation hyperparameters (LR, ε, β,
 * iterations, ...) live in the {@code grpo} section; this one is about batching, staleness and
 * checkpoints.
 */
public record LearnerConfig(
        @JsonPropertyDescription(
                        "B: groups taken from the log per batch; the trainable ones feed"
                                + " grpo.numIterations optimizer steps, the others (dropped by the"
                                + " advantage topology, or too stale) are recorded as skipped.")
                int batchGroups,
        @JsonPropertyDescription(
                        "Groups scored in one forward/backward (a micro-batch); gradients of a"
                                + " step accumulate over ceil(batchGroups / this) micro-batches.")
                int groupsPerMicroBatch,
        @JsonPropertyDescription(
                        "Members sampled by a policy more than this many versions older than the"
                                + " learner's are dropped (counted).")
                int maxStaleness,
        @JsonPropertyDescription(
                        "Write a checkpoint (and commit consumed offsets with it) every this many"
                                + " batches.")
                int checkpointEveryBatches,
        @JsonPropertyDescription(
                        "Checkpoint store root: a directory or file:// URI (empty = <run dir>/checkpoints).")
                String checkpointStore,
        @JsonPropertyDescription(
                        "Checkpoints kept in the store besides the initial one (older ones are"
                                + " pruned; their sha256 stay in the log).")
                int keepCheckpoints,
        @JsonPropertyDescription("Stop after this many optimizer steps (0 = run until stopped).")
                long maxSteps,
        @JsonPropertyDescription(
                        "Run the held-out evaluation every this many optimizer steps inside the"
                                + " learner (0 = never; local mode evaluates in its own thread).")
                int evalEverySteps,
        @JsonPropertyDescription(
                        "Kafka transaction timeout, ms: must exceed the time between two"
                                + " checkpoints (broker max 900000 by default).")
                int transactionTimeoutMs,
        @JsonPropertyDescription(
                        "Count only trainable groups toward batchGroups (DAPO's dynamic sampling,"
                                + " verl's filter_groups): groups the advantage topology dropped"
                                + " (zero reward variance, partial) are recorded as skipped and"
                                + " the batch waits for more, so every batch trains on B"
                                + " informative groups (fewer only when a group's members are all"
                                + " too stale). false = B groups taken from the log, as"
                                + " the release batches (its zero-variance groups add only the KL"
                                + " term).")
                boolean fillBatches,
        @JsonPropertyDescription(
                        "PyTorch intra-op threads of the learner's training (0 ="
                                + " policy.device.threads). `local --sync` sets it to the"
                                + " machine's processors when 0: nothing else runs while a"
                                + " synchronous learner trains. `replay` trains with the same"
                                + " count.")
                int threads) {

    public LearnerConfig {
        positive("learner.batchGroups", batchGroups);
        positive("learner.groupsPerMicroBatch", groupsPerMicroBatch);
        if (maxStaleness < 0) {
            throw new IllegalArgumentException(
                    "learner.maxStaleness must be >= 0, got " + maxStaleness);
        }
        positive("learner.checkpointEveryBatches", checkpointEveryBatches);
        checkpointStore = checkpointStore == null ? "" : checkpointStore;
        positive("learner.keepCheckpoints", keepCheckpoints);
        if (maxSteps < 0) {
            throw new IllegalArgumentException("learner.maxSteps must be >= 0, got " + maxSteps);
        }
        if (evalEverySteps < 0) {
            throw new IllegalArgumentException(
                    "learner.evalEverySteps must be >= 0, got " + evalEverySteps);
        }
        if (threads < 0) {
            throw new IllegalArgumentException("learner.threads must be >= 0, got " + threads);
        }
        if (transactionTimeoutMs < 10_000) {
            throw new IllegalArgumentException(
                    "learner.transactionTimeoutMs must be >= 10000, got " + transactionTimeoutMs);
        }
    }

    private static void positive(String key, long value) {
        if (value < 1) {
            throw new IllegalArgumentException(key + " must be >= 1, got " + value);
        }
    }

    public static LearnerConfig defaults() {
        return new LearnerConfig(4, 1, 4, 1, "", 3, 0, 0, 300_000, false, 0);
    }

    /** The PyTorch intra-op threads training uses: {@link #threads}, or {@code policyThreads}. */
    public int trainingThreads(int policyThreads) {
        return threads > 0 ? threads : policyThreads;
    }

    /** A copy with another {@link #threads}. */
    public LearnerConfig withThreads(int newThreads) {
        return new LearnerConfig(
                batchGroups,
                groupsPerMicroBatch,
                maxStaleness,
                checkpointEveryBatches,
                checkpointStore,
                keepCheckpoints,
                maxSteps,
                evalEverySteps,
                transactionTimeoutMs,
                fillBatches,
                newThreads);
    }
}
