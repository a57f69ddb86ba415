package dev.diffustream.learner.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TensorDiffTest {

    @Test
    void shouldBeIdenticalWhenEveryBitAgrees() {
        TensorDiff d = TensorDiff.of("w", new float[] {1f, -2f, 0f}, new float[] {1f, -2f, 0f});
        assertThat(d.identical()).isTrue();
        assertThat(d.maxAbsDiff()).isZero();
        assertThat(d.elements()).isEqualTo(3);
    }

    @Test
    void shouldCountDifferingElementsAndTheLargestGap() {
        TensorDiff d =
                TensorDiff.of(
                        "w", new float[] {1f, -2f, 0.5f, 7f}, new float[] {1f, -2.25f, 0f, 7f});
        assertThat(d.differing()).isEqualTo(2);
        assertThat(d.maxAbsDiff()).isEqualTo(0.5);
    }

    @Test
    void shouldMakeANaNOnOneSideAnInfiniteDifference() {
        TensorDiff d = TensorDiff.of("w", new float[] {Float.NaN}, new float[] {1f});
        assertThat(d.maxAbsDiff()).isInfinite();
        assertThat(TensorDiff.of("w", new float[] {Float.NaN}, new float[] {Float.NaN}).identical())
                .isTrue();
    }

    @Test
    void shouldRefuseTensorsOfDifferentSizes() {
        assertThatThrownBy(() -> TensorDiff.of("w", new float[2], new float[3]))
                .hasMessageContaining("w: replayed tensor has 2 elements, recorded 3");
    }
}
