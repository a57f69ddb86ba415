package dev.diffustream.learner;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Which buffered groups form the next batch, with and without {@code learner.fillBatches}. */
class BatchRuleTest {

    // true = trainable, false = dropped by the topology (zero variance, partial)
    private static final List<Boolean> LOG = List.of(true, false, true, false, false, true, true);

    @Test
    void shouldTakeTheNextBGroupsWhateverTheyAreWhenNotFilling() {
        assertThat(BatchRule.length(LOG, b -> b, 3, false)).isEqualTo(3);
        assertThat(BatchRule.length(LOG, b -> b, 7, false)).isEqualTo(7);
        assertThat(BatchRule.length(LOG, b -> b, 8, false)).isEqualTo(-1);
        assertThat(BatchRule.settledInBuffer(LOG, b -> b, false)).isZero();
    }

    @Test
    void shouldRunUpToTheBthTrainableGroupWhenFilling() {
        // the 3rd trainable group is the 6th entry; the dropped ones before it are taken too
        assertThat(BatchRule.length(LOG, b -> b, 3, true)).isEqualTo(6);
        assertThat(BatchRule.length(LOG, b -> b, 1, true)).isEqualTo(1);
        assertThat(BatchRule.length(LOG, b -> b, 4, true)).isEqualTo(7);
        // only 4 trainable groups are buffered: a batch of 5 must wait
        assertThat(BatchRule.length(LOG, b -> b, 5, true)).isEqualTo(-1);
        assertThat(BatchRule.length(List.of(false, false), (Boolean b) -> b, 1, true))
                .isEqualTo(-1);
    }

    @Test
    void shouldCountBufferedUntrainableGroupsAsSettledWhenFilling() {
        assertThat(BatchRule.settledInBuffer(LOG, b -> b, true)).isEqualTo(3);
        assertThat(BatchRule.settledInBuffer(List.<Boolean>of(), b -> b, true)).isZero();
    }
}
