package dev.diffustream.learner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diffustream.infra.config.ConfigLoader;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LearnerConfigTest {

    @Test
    void shouldAcceptDefaultsWhenUnchanged() {
        LearnerConfig d = LearnerConfig.defaults();
        assertThat(d.batchGroups()).isPositive();
        assertThat(d.checkpointStore()).isEmpty();
        assertThat(d.transactionTimeoutMs()).isGreaterThanOrEqualTo(10_000);
    }

    @Test
    void shouldNameKeyAndValueWhenValueIsBad() {
        assertThatThrownBy(() -> new LearnerConfig(0, 1, 0, 1, "", 1, 0, 0, 10_000, false, 0))
                .hasMessageContaining("learner.batchGroups must be >= 1, got 0");
        assertThatThrownBy(() -> new LearnerConfig(1, 0, 0, 1, "", 1, 0, 0, 10_000, false, 0))
                .hasMessageContaining("learner.groupsPerMicroBatch must be >= 1, got 0");
        assertThatThrownBy(() -> new LearnerConfig(1, 1, -1, 1, "", 1, 0, 0, 10_000, false, 0))
                .hasMessageContaining("learner.maxStaleness must be >= 0, got -1");
        assertThatThrownBy(() -> new LearnerConfig(1, 1, 0, 0, "", 1, 0, 0, 10_000, false, 0))
                .hasMessageContaining("learner.checkpointEveryBatches must be >= 1, got 0");
        assertThatThrownBy(() -> new LearnerConfig(1, 1, 0, 1, "", 0, 0, 0, 10_000, false, 0))
                .hasMessageContaining("learner.keepCheckpoints must be >= 1, got 0");
        assertThatThrownBy(() -> new LearnerConfig(1, 1, 0, 1, "", 1, -2, 0, 10_000, false, 0))
                .hasMessageContaining("learner.maxSteps must be >= 0, got -2");
        assertThatThrownBy(() -> new LearnerConfig(1, 1, 0, 1, "", 1, 0, -1, 10_000, false, 0))
                .hasMessageContaining("learner.evalEverySteps must be >= 0, got -1");
        assertThatThrownBy(() -> new LearnerConfig(1, 1, 0, 1, "", 1, 0, 0, 9_999, false, 0))
                .hasMessageContaining("learner.transactionTimeoutMs must be >= 10000, got 9999");
        assertThatThrownBy(() -> new LearnerConfig(1, 1, 0, 1, "", 1, 0, 0, 10_000, false, -1))
                .hasMessageContaining("learner.threads must be >= 0, got -1");
    }

    @Test
    void shouldTrainWithThePolicyThreadsUnlessTheLearnerNamesItsOwn() {
        assertThat(LearnerConfig.defaults().trainingThreads(1)).isEqualTo(1);
        assertThat(LearnerConfig.defaults().withThreads(2).trainingThreads(1)).isEqualTo(2);
        assertThat(LearnerConfig.defaults().withThreads(2).batchGroups())
                .isEqualTo(LearnerConfig.defaults().batchGroups());
    }

    @Test
    void shouldTreatMissingCheckpointStoreAsEmptyWhenNull() {
        assertThat(new LearnerConfig(1, 1, 0, 1, null, 1, 0, 0, 10_000, false, 0).checkpointStore())
                .isEmpty();
    }

    @Test
    void shouldRejectInvalidValueWhenLoadedFromRecipe() {
        LearnerConfig ok =
                ConfigLoader.of(LearnerConfig.class)
                        .load("batchGroups: 8\ngroupsPerMicroBatch: 2\n", "test", Map.of())
                        .value();
        assertThat(ok.batchGroups()).isEqualTo(8);
        assertThat(ok.groupsPerMicroBatch()).isEqualTo(2);
        assertThat(ok.maxStaleness()).isEqualTo(LearnerConfig.defaults().maxStaleness());
        assertThatThrownBy(
                        () ->
                                ConfigLoader.of(LearnerConfig.class)
                                        .load("maxStaleness: -1\n", "test", Map.of()))
                .hasStackTraceContaining("learner.maxStaleness");
    }
}
