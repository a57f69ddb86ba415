package dev.diffustream.learner.replay;

/**
 * The comparison of one replayed checkpoint with the recorded one.
 *
 * @param version recorded policy version
 * @param step optimizer step after which it was written
 * @param batch batch that ended at that step
 * @param recordedSha256 sha256 published in {@code checkpoints}
 * @param replayedSha256 sha256 of the replayed weights ({@code WeightsDigest})
 * @param verdict identical, within the tolerance, or diverged
 * @param filesAvailable whether the recorded files still existed (and matched their sha256), so
 *     tensors could be compared
 * @param largest the tensor with the largest difference (null if identical or files pruned)
 * @param tensorsDiffering tensors with at least one differing element (-1 if not compared)
 * @param tensorsCompared tensors compared (0 if not compared)
 * @param note why tensors were not compared, or "" (e.g. pruned files)
 */
public record CheckpointCheck(
        long version,
        long step,
        long batch,
        String recordedSha256,
        String replayedSha256,
        Verdict verdict,
        boolean filesAvailable,
        TensorDiff largest,
        int tensorsDiffering,
        int tensorsCompared,
        String note) {

    /** The outcome of one comparison. */
    public enum Verdict {
        /** sha256-identical. */
        IDENTICAL,
        /** Hashes differ but no element differs by more than the tolerance (another machine). */
        WITHIN_TOLERANCE,
        /**
         * Hashes differ and the recorded files are pruned, so the drift cannot be measured here
         * (only with a tolerance: without one any hash difference is a divergence).
         */
        UNMEASURED,
        /** Hashes differ beyond the tolerance (or, without a tolerance, at all). */
        DIVERGED
    }

    /** The largest absolute difference, 0 when identical, NaN when not measured. */
    public double maxAbsDiff() {
        if (verdict == Verdict.IDENTICAL) {
            return 0;
        }
        return largest == null ? Double.NaN : largest.maxAbsDiff();
    }
}
