package dev.diffustream.policy.sampler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The table of spec D.3: tokens revealed per step by Dream's schedule. */
class TransferScheduleTest {

    @Test
    void shouldRevealNothingFirstOneEachAndTwoLastWhenStepsEqualNewTokens() {
        // given 256 new tokens in 256 steps (the RL rollout), and 512/512
        for (int len : new int[] {256, 512}) {
            // when
            int[] counts = TransferSchedule.counts(len, len, 1e-3);
            // then step 0 → 0, steps 1..len-2 → 1, last step → 2
            assertThat(counts[0]).isZero();
            assertThat(Arrays.copyOfRange(counts, 1, len - 1)).containsOnly(1);
            assertThat(counts[len - 1]).isEqualTo(2);
            assertThat(Arrays.stream(counts).sum()).isEqualTo(len);
        }
    }

    @Test
    void shouldMatchSpecTableWhenFewerStepsThanTokens() {
        // given / when
        int[] half = TransferSchedule.counts(256, 128, 1e-3);
        int[] quarter = TransferSchedule.counts(256, 64, 1e-3);
        // then 256/128: 1, then 2 × 126, then 3
        assertThat(half[0]).isEqualTo(1);
        assertThat(Arrays.copyOfRange(half, 1, 127)).containsOnly(2);
        assertThat(half[127]).isEqualTo(3);
        // and 256/64: 3, then 4 × 62, then 5
        assertThat(quarter[0]).isEqualTo(3);
        assertThat(Arrays.copyOfRange(quarter, 1, 63)).containsOnly(4);
        assertThat(quarter[63]).isEqualTo(5);
    }

    @Test
    void shouldSpanOneToEpsWhenBuildingTimeGrid() {
        // given
        TransferSchedule schedule = new TransferSchedule(4, 0.2);
        // then τ = linspace(1, 0.2, 5)
        assertThat(schedule.tau(0)).isEqualTo(1f);
        assertThat(schedule.tau(2)).isCloseTo(0.6f, org.assertj.core.data.Offset.offset(1e-6f));
        assertThat(schedule.tau(4)).isEqualTo(0.2f);
        assertThat(schedule.revealProbability(3)).isEqualTo(1f);
        assertThat(schedule.revealProbability(0))
                .isCloseTo(0.2f, org.assertj.core.data.Offset.offset(1e-6f));
    }

    @Test
    void shouldRejectBadArgumentsWithValues() {
        assertThatThrownBy(() -> new TransferSchedule(0, 1e-3)).hasMessageContaining("got 0");
        assertThatThrownBy(() -> new TransferSchedule(4, 1.5)).hasMessageContaining("1.5");
        assertThatThrownBy(() -> new TransferSchedule(4, 1e-3).transferCount(4, 3))
                .hasMessageContaining("got 4");
    }
}
