package dev.diffustream.producers.feeder;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.diffustream.policy.tasks.TaskSplit;

/** The task feeder (recipe section {@code feeder}). */
public record FeederConfig(
        @JsonPropertyDescription(
                        "Task suite: builtin[:seed], acecode:<path>[?difficulty=hard],"
                                + " humaneval:<path>, mbpp:<path>.")
                String suite,
        @JsonPropertyDescription("Split of the suite to feed: train, heldout or test.")
                String split,
        @JsonPropertyDescription("Passes over the split; each pass is shuffled with its own seed.")
                int epochs,
        @JsonPropertyDescription(
                        "Train on only the first this many tasks of the split (in the suite's"
                                + " order), each epoch shuffled; 0 = the whole split. A small pool"
                                + " revisits each task every epoch instead of seeing it once.")
                int poolSize,
        @JsonPropertyDescription(
                        "Stop after this many tasks in total (0 = epochs x pool or split size).")
                long maxTasks,
        @JsonPropertyDescription(
                        "Pacing: never publish more than this many groups beyond those the"
                                + " learner has consumed (trained or skipped).")
                int maxAheadGroups,
        @JsonPropertyDescription("How often to re-check the learner's progress while paced, ms.")
                long pacingPollMs) {

    public FeederConfig {
        if (suite == null || suite.isBlank()) {
            throw new IllegalArgumentException("feeder.suite must not be empty");
        }
        TaskSplit.parse("feeder.split", split);
        if (epochs < 1) {
            throw new IllegalArgumentException("feeder.epochs must be >= 1, got " + epochs);
        }
        if (poolSize < 0) {
            throw new IllegalArgumentException(
                    "feeder.poolSize must be >= 0 (0 = the whole split), got " + poolSize);
        }
        if (maxTasks < 0) {
            throw new IllegalArgumentException("feeder.maxTasks must be >= 0, got " + maxTasks);
        }
        if (maxAheadGroups < 1) {
            throw new IllegalArgumentException(
                    "feeder.maxAheadGroups must be >= 1, got " + maxAheadGroups);
        }
        if (pacingPollMs < 10) {
            throw new IllegalArgumentException(
                    "feeder.pacingPollMs must be >= 10, got " + pacingPollMs);
        }
    }

    public static FeederConfig defaults() {
        return new FeederConfig("builtin", "train", 100, 0, 0, 32, 200);
    }
}
