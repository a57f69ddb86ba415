package dev.diffustream.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.diffustream.streams.AdvantageConfig.Baseline;
import org.junit.jupiter.api.Test;

/** Spec A.8 on small groups whose numbers can be checked by hand. */
class AdvantagesTest {

    private static final double EPS = 1e-12;

    @Test
    void shouldComputeLeaveOneOutAsGOverGMinusOneTimesMeanBaseline() {
        // given rewards [2, 0, 1, 1]: sum 4, mean 1
        double[] r = {2, 0, 1, 1};

        // when
        Advantages.Result loo = Advantages.compute(r, Baseline.LEAVE_ONE_OUT, false);
        Advantages.Result mean = Advantages.compute(r, Baseline.MEAN, false);

        // then mean: r − 1 = [1, −1, 0, 0]; LOO: r_i − (4 − r_i)/3 = [2 − 2/3, −4/3, 0, 0]
        //   = 4/3 · [1, −1, 0, 0] (spec A.8: G/(G−1) times the mean baseline)
        assertThat(mean.advantages()).containsExactly(new double[] {1, -1, 0, 0}, within(EPS));
        assertThat(loo.advantages())
                .containsExactly(new double[] {4.0 / 3, -4.0 / 3, 0, 0}, within(EPS));
        // squares 1 + 1 + 0 + 0 = 2 → unbiased std √(2/3)
        assertThat(loo.mean()).isEqualTo(1.0);
        assertThat(loo.std()).isCloseTo(Math.sqrt(2.0 / 3), within(EPS));
        assertThat(loo.zeroVariance()).isFalse();
    }

    @Test
    void shouldDivideByUnbiasedStdPlusEpsilonWhenScaled() {
        // given rewards [0, 2]: mean 1, std = √((1 + 1)/1) = √2
        double[] r = {0, 2};

        // when
        Advantages.Result scaled = Advantages.compute(r, Baseline.MEAN, true);

        // then A = [−1, 1] / (√2 + 1e-4)
        double d = Math.sqrt(2) + 1e-4;
        assertThat(scaled.advantages()).containsExactly(new double[] {-1 / d, 1 / d}, within(EPS));
    }

    @Test
    void shouldGiveZeroAdvantagesWhenStdBelowThreshold() {
        // given rewards that differ by 1e-7 (std ≈ 5.8e-8 < 1e-6)
        double[] r = {0.5, 0.5 + 1e-7, 0.5};

        // when scaled (which would otherwise blow the difference up by 1e4)
        Advantages.Result res = Advantages.compute(r, Baseline.LEAVE_ONE_OUT, true);

        // then the group counts as zero-variance and every advantage is exactly 0
        assertThat(res.zeroVariance()).isTrue();
        assertThat(res.advantages()).containsExactly(0.0, 0.0, 0.0);
    }

    @Test
    void shouldRejectGroupsTooSmallForABaselineOrWithNonFiniteRewards() {
        assertThatThrownBy(() -> Advantages.compute(new double[] {1}, Baseline.MEAN, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least 2");
        assertThatThrownBy(
                        () ->
                                Advantages.compute(
                                        new double[] {1, Double.NaN}, Baseline.MEAN, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("reward 1");
    }
}
