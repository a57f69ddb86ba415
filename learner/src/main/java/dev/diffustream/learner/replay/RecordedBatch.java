package dev.diffustream.learner.replay;

import dev.diffustream.schemas.avro.GroupRef;
import dev.diffustream.schemas.avro.TrainStep;
import java.util.List;

/**
 * One batch of a run as its TrainSteps record it: the groups (in the learner's order, which fixes
 * the micro-batches and the summation order), the policy version the batch started from, and its
 * {@code grpo.numIterations} optimizer steps.
 *
 * @param batch batch number (1-based)
 * @param versionBefore policy version of the learner when the batch started
 * @param groups trained groups with their {@code advantages} coordinates, in training order
 * @param steps the batch's TrainSteps, iteration 0 first
 */
public record RecordedBatch(
        long batch, long versionBefore, List<GroupRef> groups, List<TrainStep> steps) {

    public RecordedBatch {
        groups = List.copyOf(groups);
        steps = List.copyOf(steps);
        if (steps.isEmpty()) {
            throw new IllegalArgumentException("batch " + batch + " has no steps");
        }
    }

    /** Step number of the batch's first optimizer step. */
    public long firstStep() {
        return steps.get(0).getStep();
    }

    /** Step number of the batch's last optimizer step. */
    public long lastStep() {
        return steps.get(steps.size() - 1).getStep();
    }

    /** The learner's wall-clock time for the batch, from its TrainSteps' durations. */
    public long recordedMillis() {
        return steps.stream().mapToLong(TrainStep::getDurationMs).sum();
    }
}
