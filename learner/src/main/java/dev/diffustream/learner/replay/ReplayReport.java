package dev.diffustream.learner.replay;

import java.util.List;

/**
 * What a replay found.
 *
 * @param runId the run
 * @param outcome identical, drift within the tolerance, or diverged
 * @param batchesReplayed batches re-executed
 * @param batchesRecorded batches in the step log
 * @param stepsReplayed optimizer steps re-executed
 * @param stepsRecorded optimizer steps in the step log
 * @param groups groups trained on
 * @param members members trained on
 * @param droppedStale members dropped for staleness (as recorded, and re-derived)
 * @param initialSha256 sha256 of the starting checkpoint (version 0)
 * @param checkpoints every checkpoint compared, in order
 * @param divergence the first divergence, or null
 * @param firstStepMismatch the first step whose recorded statistics (loss, KL, grad norm, ...) the
 *     replay did not reproduce bit for bit, or null
 * @param threads PyTorch intra-op threads the replay ran with (the run's learner threads: {@code
 *     learner.threads}, or {@code policy.device.threads} when 0)
 * @param tolerance largest absolute weight difference accepted as drift (0: bit-identical)
 * @param batchSeconds replay time of the batches (fetching, member selection, training), the
 *     counterpart of the learner's TrainStep durations
 * @param recordedSeconds the run's learner time for the same batches, from TrainStep durations
 * @param wallSeconds the whole replay: reading the log, loading, training, hashing, comparing
 */
public record ReplayReport(
        String runId,
        Outcome outcome,
        int batchesReplayed,
        int batchesRecorded,
        long stepsReplayed,
        long stepsRecorded,
        long groups,
        long members,
        long droppedStale,
        String initialSha256,
        List<CheckpointCheck> checkpoints,
        Divergence divergence,
        StepMismatch firstStepMismatch,
        int threads,
        double tolerance,
        double batchSeconds,
        double recordedSeconds,
        double wallSeconds) {

    public ReplayReport {
        checkpoints = List.copyOf(checkpoints);
    }

    /** The overall verdict. */
    public enum Outcome {
        /** Every compared checkpoint is sha256-identical to the recorded one. */
        IDENTICAL,
        /** Some checkpoints differ, all within the tolerance (or unmeasurable: files pruned). */
        DRIFT,
        /** A divergence (see {@link ReplayReport#divergence()}). */
        DIVERGED
    }

    /**
     * The first step whose statistics differ.
     *
     * @param step optimizer step
     * @param difference which statistic, recorded and replayed values
     */
    public record StepMismatch(long step, String difference) {}

    /** Checkpoints whose sha256 matched. */
    public long identicalCheckpoints() {
        return checkpoints.stream()
                .filter(c -> c.verdict() == CheckpointCheck.Verdict.IDENTICAL)
                .count();
    }

    /** The largest measured weight difference over all compared checkpoints (0 if identical). */
    public double maxAbsDiff() {
        double max = 0;
        for (CheckpointCheck c : checkpoints) {
            if (!Double.isNaN(c.maxAbsDiff())) {
                max = Math.max(max, c.maxAbsDiff());
            }
        }
        return max;
    }

    /** Replay batch time over the run's learner time (NaN if the run recorded none). */
    public double speedRatio() {
        return recordedSeconds > 0 ? batchSeconds / recordedSeconds : Double.NaN;
    }
}
