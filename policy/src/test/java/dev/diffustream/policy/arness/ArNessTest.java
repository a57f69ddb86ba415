package dev.diffustream.policy.arness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.diffustream.policy.arness.ArNess.EarlySteps;
import org.junit.jupiter.api.Test;

class ArNessTest {

    private static final int[] LEFT_TO_RIGHT = {0, 1, 2, 3, 4, 5, 6, 7};
    private static final int[] RIGHT_TO_LEFT = {7, 6, 5, 4, 3, 2, 1, 0};

    @Test
    void shouldScoreOneWhenDecodingLeftToRight() {
        for (int k = 1; k <= 4; k++) {
            assertThat(ArNess.global(LEFT_TO_RIGHT, k)).isEqualTo(1.0);
            assertThat(ArNess.local(LEFT_TO_RIGHT, k, EarlySteps.PROMPT_PREFIX)).isEqualTo(1.0);
            // spec convention: the first k steps count 0 but T stays the denominator
            assertThat(ArNess.local(LEFT_TO_RIGHT, k)).isCloseTo((8.0 - k) / 8.0, within(1e-12));
        }
    }

    @Test
    void shouldScoreLowWhenDecodingRightToLeft() {
        // local: never the left neighbour first; global@1: only the last step (position 0) is
        // leftmost
        assertThat(ArNess.local(RIGHT_TO_LEFT, 1, EarlySteps.PROMPT_PREFIX)).isZero();
        assertThat(ArNess.global(RIGHT_TO_LEFT, 1)).isEqualTo(1.0 / 8);
        // global@2: steps revealing 1 (masked {0,1}) and 0
        assertThat(ArNess.global(RIGHT_TO_LEFT, 2)).isEqualTo(2.0 / 8);
    }

    @Test
    void shouldCountHandMadeOrder() {
        // given order 2,3,0,1,4: positions
        int[] order = {2, 3, 0, 1, 4};
        // local@1 (ZERO): t=2: 3 after 2 ✓; t=3: 0 after 3 ✗; t=4: 1 after 0 ✓; t=5: 4 after 1 ✗
        assertThat(ArNess.local(order, 1)).isEqualTo(2.0 / 5);
        // local@2: t=4 needs p2=0? (1-1=0 ✓) and p1... order[1]=3 vs want -1 ✗ → 0 hits
        assertThat(ArNess.local(order, 2)).isZero();
        // global@1: masked-leftmost at each step: {0..4}→2 ✗, {0,1,3,4}→3 ✗, {0,1,4}→0 ✓, {1,4}→1
        // ✓, {4}→4 ✓
        assertThat(ArNess.global(order, 1)).isEqualTo(3.0 / 5);
        // global@3: step1 rank 2 ✓, step2 rank of 3 in {0,1,3,4} = 2 ✓, rest ✓
        assertThat(ArNess.global(order, 3)).isEqualTo(1.0);
        // PROMPT_PREFIX changes only the first step: position 2 first is not next to the prompt
        assertThat(ArNess.local(order, 1, EarlySteps.PROMPT_PREFIX)).isEqualTo(2.0 / 5);
    }

    @Test
    void shouldBeMonotoneInKOnRandomOrder() {
        int[] order = {5, 0, 1, 2, 7, 3, 4, 6, 9, 8};
        for (int k = 1; k < 6; k++) {
            assertThat(ArNess.local(order, k + 1)).isLessThanOrEqualTo(ArNess.local(order, k));
            assertThat(ArNess.global(order, k + 1)).isGreaterThanOrEqualTo(ArNess.global(order, k));
        }
        assertThat(ArNess.meanGlobal(new int[][] {order, LEFT_TO_RIGHT}, 1))
                .isCloseTo((ArNess.global(order, 1) + 1.0) / 2, within(1e-12));
    }

    @Test
    void shouldRejectNonPermutation() {
        assertThatThrownBy(() -> ArNess.local(new int[] {0, 0, 1}, 1))
                .hasMessageContaining("permutation")
                .hasMessageContaining("step 1");
        assertThatThrownBy(() -> ArNess.global(new int[] {0, 1}, 0))
                .hasMessageContaining("k must be");
    }
}
