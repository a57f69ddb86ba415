package dev.diffustream.learner.replay;

import dev.diffustream.learner.GrpoTrainer;
import dev.diffustream.policy.loss.PolicyLossStats;
import dev.diffustream.schemas.avro.TrainStep;
import java.util.Locale;
import java.util.Optional;

/**
 * Compares what a replayed optimizer step did with its TrainStep. On the machine that ran it, a
 * replayed step reproduces every recorded statistic exactly (they are computed from the same bits),
 * so the first differing statistic pinpoints the step where a run stops being reproduced, even
 * between two checkpoints.
 */
public final class StepComparison {

    private StepComparison() {}

    /**
     * The first statistic of {@code replayed} that differs from {@code recorded}, as {@code "name
     * recorded R, replayed P"}, or empty if all agree bit for bit.
     */
    public static Optional<String> firstDifference(
            TrainStep recorded, GrpoTrainer.StepStats replayed) {
        if (recorded.getStep() != replayed.step()) {
            return Optional.of(
                    "step number: recorded "
                            + recorded.getStep()
                            + ", replayed "
                            + replayed.step());
        }
        if (recorded.getIteration() != replayed.iteration()) {
            return Optional.of(
                    "iteration: recorded "
                            + recorded.getIteration()
                            + ", replayed "
                            + replayed.iteration());
        }
        if (recorded.getMaskSeedIndex() != replayed.seedIndex()) {
            return Optional.of(
                    "mask seed index: recorded "
                            + recorded.getMaskSeedIndex()
                            + ", replayed "
                            + replayed.seedIndex());
        }
        PolicyLossStats l = replayed.loss();
        if (recorded.getTokens() != l.tokens()) {
            return Optional.of(
                    "loss tokens: recorded " + recorded.getTokens() + ", replayed " + l.tokens());
        }
        String[] names = {
            "loss",
            "policy loss",
            "kl",
            "clip fraction low",
            "clip fraction high",
            "grad norm",
            "learning rate"
        };
        double[] rec = {
            recorded.getLoss(),
            recorded.getPolicyLoss(),
            recorded.getKl(),
            recorded.getClipFractionLow(),
            recorded.getClipFractionHigh(),
            recorded.getGradNorm(),
            recorded.getLearningRate()
        };
        double[] rep = {
            l.loss(),
            l.policyLoss(),
            l.kl(),
            l.clipRatioLow(),
            l.clipRatioHigh(),
            replayed.gradNorm(),
            replayed.learningRate()
        };
        for (int i = 0; i < names.length; i++) {
            // Double.compare: bit-level agreement, NaN equal to NaN.
            if (Double.compare(rec[i], rep[i]) != 0) {
                return Optional.of(
                        String.format(
                                Locale.ROOT,
                                "%s: recorded %s, replayed %s",
                                names[i],
                                Double.toString(rec[i]),
                                Double.toString(rep[i])));
            }
        }
        return Optional.empty();
    }
}
