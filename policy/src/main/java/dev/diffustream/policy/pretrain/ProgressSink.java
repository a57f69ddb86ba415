package dev.diffustream.policy.pretrain;

/** Where a pretraining run reports progress (the CLI draws a progress line; tests collect). */
@FunctionalInterface
public interface ProgressSink {

    /** A training progress report, every {@code logEvery} steps and after the last step. */
    void onProgress(PretrainProgress progress);

    /** A phase message ("resuming from step 200", "evaluating 64 held-out prompts", ...). */
    default void onMessage(String message) {}

    /** Discards everything. */
    static ProgressSink none() {
        return p -> {};
    }
}
