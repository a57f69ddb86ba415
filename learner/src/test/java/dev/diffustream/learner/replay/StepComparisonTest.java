package dev.diffustream.learner.replay;

import static dev.diffustream.learner.replay.ReplayFixtures.step;
import static org.assertj.core.api.Assertions.assertThat;

import dev.diffustream.learner.GrpoTrainer;
import dev.diffustream.policy.loss.PolicyLossStats;
import dev.diffustream.schemas.avro.TrainStep;
import java.util.List;
import org.junit.jupiter.api.Test;

class StepComparisonTest {

    private static final PolicyLossStats LOSS =
            new PolicyLossStats(0.25, 0.2, 0.05, 0.01, 0.02, 0.03, 1.0, 0.0, 96);

    private static TrainStep recorded(double lr) {
        return TrainStep.newBuilder(step(5, 3, 0, 2, List.of()))
                .setMaskSeedIndex(1)
                .setLoss(0.25)
                .setPolicyLoss(0.2)
                .setKl(0.05)
                .setClipFractionLow(0.01)
                .setClipFractionHigh(0.02)
                .setGradNorm(0.75)
                .setLearningRate(lr)
                .setTokens(96)
                .build();
    }

    private static final GrpoTrainer.StepStats REPLAYED =
            new GrpoTrainer.StepStats(5, 0, 1, LOSS, 0.75, 1e-4, false);

    @Test
    void shouldAgreeWhenEveryStatisticIsTheSame() {
        assertThat(StepComparison.firstDifference(recorded(1e-4), REPLAYED)).isEmpty();
    }

    @Test
    void shouldNameTheStatisticAndBothValuesWhenOneDiffers() {
        assertThat(StepComparison.firstDifference(recorded(2e-4), REPLAYED))
                .hasValue("learning rate: recorded 2.0E-4, replayed 1.0E-4");
    }

    @Test
    void shouldSeeALastBitDifference() {
        // given: a loss one ulp away, as a different summation order would give
        TrainStep r = TrainStep.newBuilder(recorded(1e-4)).setLoss(Math.nextUp(0.25)).build();

        // then
        assertThat(StepComparison.firstDifference(r, REPLAYED))
                .hasValueSatisfying(
                        d -> assertThat(d).startsWith("loss: recorded 0.25000000000000006"));
    }

    @Test
    void shouldReportAnotherSeedIndexBeforeTheLoss() {
        TrainStep r = TrainStep.newBuilder(recorded(1e-4)).setMaskSeedIndex(0).build();
        assertThat(StepComparison.firstDifference(r, REPLAYED))
                .hasValue("mask seed index: recorded 0, replayed 1");
    }
}
