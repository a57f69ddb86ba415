package dev.diffustream.learner.replay;

/**
 * The first place where a replay stops reproducing its run.
 *
 * @param kind what diverged
 * @param step optimizer step (the batch's last step for weights, its first for membership)
 * @param batch batch number
 * @param version the checkpoint version concerned (for membership and step-log problems: the
 *     version the batch started from)
 * @param message what differs, in one sentence
 * @param checkpoint the checkpoint comparison, for {@link Kind#WEIGHTS}; null otherwise
 */
public record Divergence(
        Kind kind,
        long step,
        long batch,
        long version,
        String message,
        CheckpointCheck checkpoint) {

    /** What diverged. */
    public enum Kind {
        /** A replayed checkpoint's weights differ from the recorded ones. */
        WEIGHTS,
        /** The member selection does not reproduce the recorded group membership. */
        MEMBERSHIP,
        /** The replay ran another number of optimizer steps than the batch recorded. */
        STEPS,
        /** The log itself is inconsistent (version sequence, missing records). */
        LOG
    }
}
